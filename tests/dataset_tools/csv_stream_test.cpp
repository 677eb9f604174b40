// The pieces that let CSV conversion stream (exact median, numeric fit, ordered staging) and the whole against an in-memory reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>

#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/csv_reader.h"
#include "dataset_tools/csv_source.h"
#include "dataset_tools/exact_median.h"
#include "dataset_tools/numeric_fit.h"
#include "dataset_tools/ordered_staging.h"
#include "dataset_tools/output_dir.h"
#include "dataset_tools/split.h"
#include "dataset_tools/tabular_schema.h"
#include "test_util.h"

namespace strike {
namespace {

namespace fs = std::filesystem;

uint64_t bits(double value) {
  uint64_t b;
  std::memcpy(&b, &value, sizeof b);
  return b;
}

struct MedianRun {
  double median;
  int passes;
};

// Streams `values` until ExactMedian has the median, each pass in another order.
MedianRun stream_median(std::vector<double> values, int64_t max_values, uint64_t seed) {
  data::ExactMedian median(max_values);
  std::mt19937_64 rng(seed);
  int passes = 0;
  do {
    std::shuffle(values.begin(), values.end(), rng);
    for (double v : values) median.add(v);
    ++passes;
  } while (!median.end_pass() && passes < 10);
  EXPECT_EQ(median.count(), static_cast<int64_t>(values.size()));
  return {median.median(), passes};
}

std::vector<std::pair<std::string, std::vector<double>>> adversarial_inputs() {
  std::vector<std::pair<std::string, std::vector<double>>> inputs;
  inputs.push_back({"no values", {}});
  inputs.push_back({"one value", {5.5}});
  inputs.push_back({"one negative zero", {-0.0}});
  inputs.push_back({"two values", {-3.0, 8.0}});
  inputs.push_back({"opposite values", {-1.0, 1.0}});
  std::vector<double> v;
  v.insert(v.end(), 1000, -0.0);
  v.insert(v.end(), 999, 0.0);
  v.push_back(1.0);
  inputs.push_back({"signed zeros in the middle", v});
  v.assign(5000, 1.0);
  v.insert(v.end(), 5000, 2.0);
  inputs.push_back({"duplicates, middles on both sides of a step", v});
  v.push_back(3.0);
  inputs.push_back({"duplicates, odd count", v});
  inputs.push_back({"constant", std::vector<double>(10000, 7.25)});
  v.clear();
  for (int k = 0; k < 1000; ++k) {
    const double x = 1.0 + k * std::numeric_limits<double>::epsilon();  // neighbours in the last bit
    v.push_back(x);
    v.push_back(x);
  }
  v.push_back(1.0);
  inputs.push_back({"last-bit neighbours", v});
  v.assign(3000, 1.5);
  v.insert(v.end(), 3000, 6.0);  // the middles in other binades
  inputs.push_back({"middles in two binades", v});
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  v.clear();
  for (int i = 0; i < 20001; ++i) {
    const int kind = static_cast<int>(rng() % 6);
    const double x = normal(rng);
    v.push_back(kind == 0   ? x * 1e300
                : kind == 1 ? x * 1e-300
                : kind == 2 ? std::numeric_limits<double>::denorm_min() * static_cast<double>(rng() % 50)
                : kind == 3 ? std::round(x * 3)
                            : x);
  }
  inputs.push_back({"wide, subnormal, rounded, odd count", v});
  v.pop_back();
  inputs.push_back({"wide, subnormal, rounded, even count", v});
  return inputs;
}

TEST(ExactMedian, EqualsTheInMemoryMedianOnAdversarialInputs) {
  for (const auto& [name, values] : adversarial_inputs()) {
    const double expected = data::fit_numeric("x", values, false).median;
    for (int64_t max_values : {int64_t{1}, int64_t{3}, int64_t{64}, data::ExactMedian::kDefaultMaxValues}) {
      const MedianRun run = stream_median(values, max_values, static_cast<uint64_t>(max_values));
      EXPECT_EQ(bits(run.median), bits(expected))
          << name << ", max_values " << max_values << ": " << run.median << " != " << expected;
      EXPECT_LE(run.passes, 5) << name << ", max_values " << max_values;
    }
  }
}

TEST(ExactMedian, ZeroMedianIsPositiveAndEmptyIsZero) {
  EXPECT_EQ(bits(stream_median({-0.0, -0.0, -0.0}, 1, 0).median), bits(0.0));
  EXPECT_EQ(bits(data::fit_numeric("x", {-0.0, -0.0, -0.0}, false).median), bits(0.0));
  const MedianRun empty = stream_median({}, 1, 0);
  EXPECT_EQ(empty.median, 0.0);
  EXPECT_EQ(empty.passes, 1);
  EXPECT_EQ(stream_median({4.0}, 1, 0).passes, 1);  // one value: the first pass's range holds only it
}

TEST(ExactMedian, ValuesThatChangeBetweenPassesAreAnError) {
  data::ExactMedian median(1);
  for (double v : {1.0, 1.5, 1.75}) median.add(v);
  ASSERT_FALSE(median.end_pass());
  median.add(1.0);  // one value short
  EXPECT_THROW(median.end_pass(), Error);
}

// The streamed fit of a numeric column is fit_numeric's, bit for bit: same sums in the same order.
TEST(NumericFit, BitForBitLikeFitNumeric) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(40, 13);
  std::vector<std::vector<double>> columns = {{}, std::vector<double>(500, 2.5)};
  for (size_t n : {1, 2, 999, 10000}) {
    std::vector<double> v;
    for (size_t i = 0; i < n; ++i) v.push_back(i % 4 == 0 ? std::round(normal(rng)) : normal(rng));
    columns.push_back(v);
  }
  for (const auto& values : columns) {
    const data::ColumnSchema expected = data::fit_numeric("x", values, true);
    data::NumericFit fit(5);
    std::vector<double> order = values;
    int passes = 0;
    do {
      if (passes >= 1) std::shuffle(order.begin(), order.end(), rng);  // only the median's passes may reorder
      for (double v : order) fit.add(v);
      ++passes;
    } while (!fit.end_pass() && passes < 10);
    data::ColumnSchema actual;
    fit.apply(actual);
    EXPECT_EQ(bits(actual.median), bits(expected.median)) << values.size() << " values";
    EXPECT_EQ(bits(actual.mean), bits(expected.mean)) << values.size() << " values";
    EXPECT_EQ(bits(actual.std), bits(expected.std)) << values.size() << " values";
    EXPECT_LE(passes, 5);
  }
}

TEST(OrderedStaging, GathersAnyPermutationInOrderAcrossBuckets) {
  test::TempDir dir;
  const std::string path = dir / "records.staging";
  const int64_t n = 1000, bytes = 12;
  std::vector<int64_t> positions(n);
  for (int64_t i = 0; i < n; ++i) positions[i] = i;
  std::mt19937_64 rng(5);
  std::shuffle(positions.begin(), positions.end(), rng);
  {
    data::OrderedStaging staging(path, bytes, n, 100);  // 8 records a bucket: 125 buckets
    for (int64_t p : positions) {
      char record[12];
      const int32_t tag = static_cast<int32_t>(p * 7 + 1);
      std::memcpy(record, &p, 8);
      std::memcpy(record + 8, &tag, 4);
      staging.put(p, record);
    }
    staging.finish_writing();
    std::vector<char> out;
    for (int64_t begin = 0; begin < n;) {  // ranges of odd sizes that cross bucket boundaries
      const int64_t count = std::min<int64_t>(n - begin, 1 + static_cast<int64_t>(rng() % 23));
      out.resize(static_cast<size_t>(count * bytes));
      staging.read(begin, count, out.data());
      for (int64_t i = 0; i < count; ++i) {
        int64_t p;
        int32_t tag;
        std::memcpy(&p, out.data() + i * bytes, 8);
        std::memcpy(&tag, out.data() + i * bytes + 8, 4);
        ASSERT_EQ(p, begin + i);
        ASSERT_EQ(tag, p * 7 + 1);
      }
      begin += count;
    }
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path)) << "the staging file outlived its staging";
}

TEST(OrderedStaging, EmptyRecordsAndMissingRecords) {
  test::TempDir dir;
  {
    data::OrderedStaging staging(dir / "empty.staging", 0, 10, 64);  // a table with only a target column
    for (int64_t p = 9; p >= 0; --p) staging.put(p, nullptr);
    staging.finish_writing();
    staging.read(0, 10, nullptr);
  }
  data::OrderedStaging staging(dir / "short.staging", 8, 10, 32);
  const int64_t value = 1;
  for (int64_t p = 0; p < 9; ++p) staging.put(p, &value);
  EXPECT_THROW(staging.finish_writing(), Error);
  EXPECT_THROW(staging.put(10, &value), Error);
}

// A table with missing values, signed zeros, duplicates, quoted fields (with commas and newlines), unseen
// categories, and a column of numbers that turns to text late (categorical: "7" and "07" differ).
std::string reference_table(int rows) {
  std::mt19937_64 rng(21);
  std::normal_distribution<double> normal;
  std::string text = "size,count,zeroish,color,\"place, quoted\",code,species\n";
  const char* colors[] = {"red", "green", "blue", "NA", ""};
  const char* codes[] = {"7", "07", "7.0", "12", "x"};
  for (int i = 0; i < rows; ++i) {
    char size[32];
    std::snprintf(size, sizeof size, "%.3f", 50 + 10 * normal(rng));
    const int count = static_cast<int>(rng() % 7);
    const double z = normal(rng) * 1e-4;
    char zeroish[32];
    std::snprintf(zeroish, sizeof zeroish, "%.4f", z);  // many "0.0000" and "-0.0000"
    std::string place = rng() % 40 == 0  ? "rare " + std::to_string(i)
                        : rng() % 5 == 0 ? "\"town,\n" + std::to_string(rng() % 4) + "\""
                                         : "\"town, " + std::to_string(rng() % 4) + "\"";
    const std::string code = codes[rng() % (i < rows * 3 / 4 ? 4 : 5)];
    text += (rng() % 10 == 0 ? std::string("NA") : std::string(size)) + "," +
            (rng() % 8 == 0 ? std::string() : std::to_string(count)) + "," + zeroish + "," + colors[rng() % 5] + "," +
            place + "," + code + "," + std::string(1, "pqrs"[rng() % (i % 9 == 0 ? 4 : 3)]) + "\n";
  }
  return text;
}

struct Encoded {
  std::vector<float> numeric;
  std::vector<int64_t> categorical, labels;
};

// The conversion done in memory with fit_numeric, fit_categorical and the schema's encoders.
struct Reference {
  data::TabularSchema schema;
  std::map<std::string, std::vector<Encoded>> shards;  // by split
};

Reference convert_in_memory(const data::ConvertOptions& o) {
  data::CsvReader reader(o.input);
  std::vector<std::string> header, fields;
  reader.next(header);
  std::vector<std::vector<std::string>> rows;
  while (reader.next(fields)) rows.push_back(fields);
  const size_t target = static_cast<size_t>(std::find(header.begin(), header.end(), o.target) - header.begin());
  std::set<std::string> class_set;
  for (const auto& r : rows) class_set.insert(r[target]);
  const std::vector<std::string> classes(class_set.begin(), class_set.end());
  std::vector<int64_t> labels;
  for (const auto& r : rows) labels.push_back(std::find(classes.begin(), classes.end(), r[target]) - classes.begin());
  data::SplitIndices split = data::stratified_split(labels, static_cast<int64_t>(classes.size()), o.val_fraction,
                                                    o.test_fraction, o.seed);
  std::vector<bool> in_train(rows.size(), false);
  for (int64_t i : split.train) in_train[static_cast<size_t>(i)] = true;

  Reference ref;
  ref.schema.target = o.target;
  std::vector<size_t> source;
  int64_t numeric_at = 0, categorical_at = 0;
  for (size_t c = 0; c < header.size(); ++c) {
    if (c == target) continue;
    bool numeric = true, missing = false;
    double v;
    for (const auto& r : rows) {
      if (data::is_missing(r[c])) {
        missing = true;
      } else if (!data::parse_number(r[c], v)) {
        numeric = false;
      }
    }
    data::ColumnSchema col;
    if (numeric) {
      std::vector<double> train;
      for (size_t r = 0; r < rows.size(); ++r) {
        if (in_train[r] && data::parse_number(rows[r][c], v)) train.push_back(v);
      }
      col = data::fit_numeric(header[c], train, missing);
      col.position = numeric_at++;
    } else {
      std::vector<std::string> train;
      for (size_t r = 0; r < rows.size(); ++r) {
        if (in_train[r] && !data::is_missing(rows[r][c])) train.push_back(rows[r][c]);
      }
      col = data::fit_categorical(header[c], train);
      col.position = categorical_at++;
    }
    ref.schema.columns.push_back(col);
    source.push_back(c);
  }
  for (auto& col : ref.schema.columns) {
    if (col.kind == data::ColumnKind::kNumeric && col.has_missing) col.indicator = numeric_at++;
  }
  const int64_t nw = ref.schema.numeric_width(), cw = ref.schema.categorical_width();
  auto encode = [&](size_t r, Encoded& out) {
    const size_t at = out.numeric.size();
    out.numeric.resize(at + static_cast<size_t>(nw));
    out.categorical.resize(out.categorical.size() + static_cast<size_t>(cw));
    int64_t* cat = out.categorical.data() + out.categorical.size() - cw;
    for (size_t k = 0; k < ref.schema.columns.size(); ++k) {
      const data::ColumnSchema& col = ref.schema.columns[k];
      const std::string& value = rows[r][source[k]];
      if (col.kind == data::ColumnKind::kCategorical) {
        cat[col.position] = col.encode_category(value);
        continue;
      }
      double number = std::numeric_limits<double>::quiet_NaN();
      if (!data::is_missing(value)) data::parse_number(value, number);
      out.numeric[at + col.position] = col.encode_numeric(number);
      if (col.indicator >= 0) out.numeric[at + col.indicator] = std::isnan(number) ? 1.0f : 0.0f;
    }
    out.labels.push_back(labels[r]);
  };
  const std::vector<std::pair<std::string, std::vector<int64_t>>> parts = {
      {"train", split.train}, {"val", split.val}, {"test", split.test}};
  for (size_t s = 0; s < parts.size(); ++s) {
    std::vector<int64_t> order = parts[s].second;
    if (order.empty()) continue;
    data::shuffle_split(order, o.seed, s);
    const int64_t n = static_cast<int64_t>(order.size());
    const int64_t shards = data::split_shard_count(o, n, static_cast<int64_t>(split.train.size()), s == 0);
    for (int64_t k = 0; k < shards; ++k) {
      Encoded shard;
      for (int64_t i = k * n / shards; i < (k + 1) * n / shards; ++i) encode(static_cast<size_t>(order[i]), shard);
      ref.shards[parts[s].first].push_back(shard);
    }
  }
  return ref;
}

void expect_like_reference(const core::Manifest& m, const std::string& dir, const Reference& ref) {
  EXPECT_EQ(m.extra["schema"].dump(), ref.schema.to_json().dump());  // as text: -0.0 and 0.0 differ there
  for (const auto& [split, shards] : ref.shards) {
    ASSERT_EQ(m.split(split).shards.size(), shards.size()) << split;
    for (size_t k = 0; k < shards.size(); ++k) {
      core::ShardReader reader(dir + "/" + m.split(split).shards[k].file, m.fields);
      const Encoded& want = shards[k];
      ASSERT_EQ(reader.rows(), static_cast<int64_t>(want.labels.size())) << split << " shard " << k;
      Encoded got;
      got.numeric.resize(want.numeric.size());
      got.categorical.resize(want.categorical.size());
      got.labels.resize(want.labels.size());
      reader.read(m.field("numeric"), 0, reader.rows(), got.numeric.data());
      reader.read(m.field("categorical"), 0, reader.rows(), got.categorical.data());
      reader.read(m.field("label"), 0, reader.rows(), got.labels.data());
      EXPECT_EQ(std::memcmp(got.numeric.data(), want.numeric.data(), want.numeric.size() * sizeof(float)), 0)
          << split << " shard " << k;
      EXPECT_EQ(got.categorical, want.categorical) << split << " shard " << k;
      EXPECT_EQ(got.labels, want.labels) << split << " shard " << k;
    }
  }
}

TEST(CsvStream, ConversionEqualsTheInMemoryReference) {
  test::TempDir input, output;
  data::ConvertOptions o;
  o.input = input / "table.csv";
  o.target = "species";
  o.shards = 3;
  o.val_fraction = 0.15;
  o.test_fraction = 0.1;
  o.seed = 11;
  o.max_categories = 1000;
  std::ofstream(o.input, std::ios::binary) << reference_table(5000);
  const Reference ref = convert_in_memory(o);
  ASSERT_EQ(ref.schema.columns.size(), 6u);
  ASSERT_EQ(ref.schema.columns[0].kind, data::ColumnKind::kNumeric);
  ASSERT_EQ(ref.schema.columns[2].kind, data::ColumnKind::kNumeric);
  ASSERT_EQ(ref.schema.columns[3].kind, data::ColumnKind::kCategorical);
  ASSERT_EQ(ref.schema.columns[5].kind, data::ColumnKind::kCategorical);
  EXPECT_EQ(ref.schema.columns[5].vocabulary.size(), 7u);  // <unknown>, <missing>, 07, 12, 7, 7.0, x
  EXPECT_EQ(bits(ref.schema.columns[2].median), bits(0.0));  // the signed-zero column's median is zero

  // Default limits, through the command's entry point.
  o.output = output / "default";
  const core::Manifest m = data::convert(o);
  expect_like_reference(m, o.output, ref);

  // Limits small enough for 6-row staging buckets, medians that need passes over the staged rows, and
  // the text read in five ranges (cuts inside quoted fields among them).
  data::TabularLimits tiny;
  tiny.chunk_bytes = 200;
  tiny.median_values = 3;
  tiny.threads = 5;
  tiny.min_range_bytes = 1;
  o.output = output / "tiny";
  data::prepare_output_dir(o.output, o.input, false);
  data::TabularPlan plan = data::read_tabular_csv(o, tiny);
  std::vector<std::string> written;
  const core::Manifest small = data::write_tabular(plan, o, written, tiny);
  small.save(o.output);
  expect_like_reference(small, o.output, ref);
  for (size_t s = 0; s < m.splits.size(); ++s) {
    for (size_t k = 0; k < m.splits[s].shards.size(); ++k) {
      EXPECT_EQ(small.splits[s].shards[k].checksum, m.splits[s].shards[k].checksum) << m.splits[s].name << " " << k;
    }
  }
}

// A reader per range, cut at the first newline after any byte, reads the records of one reader exactly
// when it ends where the next begins; otherwise the cut fell inside a quoted field.
TEST(CsvReaderRanges, CutsAtNewlinesOutsideQuotesGiveTheSameRecords) {
  test::TempDir dir;
  const std::string path = dir / "t.csv";
  const std::string text = "a,b\n1,\"x\ny\"\n\n2,\"p,\"\"q\"\"\n\"\r\n3,z\n\"4\n\",w\n5,v";
  std::ofstream(path, std::ios::binary) << text;
  auto records = [&](int64_t begin, int64_t stop, int64_t first_line, int64_t* end) {
    data::CsvReader reader(path, begin, stop, first_line);
    std::vector<std::string> fields;
    std::vector<std::string> out;
    while (reader.next(fields)) out.push_back(std::to_string(reader.line()) + ":" + fields[0] + "|" + fields[1]);
    if (end) *end = reader.offset();
    return out;
  };
  data::CsvReader header(path);
  std::vector<std::string> fields;
  header.next(fields);
  const int64_t data_begin = header.offset();
  const std::vector<std::string> whole = records(data_begin, std::numeric_limits<int64_t>::max(), 2, nullptr);
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[1], "5:2|p,\"q\"\n");
  int valid = 0, invalid = 0;
  for (int64_t at = data_begin; at < static_cast<int64_t>(text.size()); ++at) {
    const size_t nl = text.find('\n', static_cast<size_t>(at));
    if (nl == std::string::npos) break;
    const int64_t cut = static_cast<int64_t>(nl) + 1;
    int64_t first_end = 0;
    std::vector<std::string> both = records(data_begin, cut, 2, &first_end);
    if (first_end != cut) {
      ++invalid;
      continue;
    }
    ++valid;
    // The second reader counts lines from its own start: shift them as run_text_pass does.
    const int64_t shift = static_cast<int64_t>(std::count(text.begin(), text.begin() + cut, '\n'));
    for (const std::string& r : records(cut, std::numeric_limits<int64_t>::max(), 1, nullptr)) {
      both.push_back(std::to_string(std::stoll(r.substr(0, r.find(':'))) + shift) + r.substr(r.find(':')));
    }
    EXPECT_EQ(both, whole) << "cut at " << cut;
  }
  EXPECT_GT(valid, 3);
  EXPECT_GT(invalid, 2);  // the newlines inside "x\ny", "p,..\n" and "4\n"
}

// Options converting INPUT/table.csv into OUTPUT with `target` as the class column.
data::ConvertOptions table_options(const test::TempDir& input, const test::TempDir& output, const std::string& target) {
  data::ConvertOptions o;
  o.input = input / "table.csv";
  o.output = output.path();
  o.target = target;
  return o;
}

// Errors in any range name the line one reader would; the first one in the file wins.
TEST(CsvStream, ErrorsInLaterRangesNameTheirLine) {
  test::TempDir input, output;
  data::ConvertOptions o = table_options(input, output, "y");
  data::TabularLimits ranges;
  ranges.threads = 4;
  ranges.min_range_bytes = 1;
  // Every row spans two lines: row r (from 0) starts on line 2 + 2r. What follows the newline inside a
  // note is a row too: a range cut there reads rows that look right, and only the cut check finds it.
  auto table = [](int rows, int bad_row, const std::string& bad) {
    std::string text = "a,y,note\n";
    for (int r = 0; r < rows; ++r) {
      text += r == bad_row ? bad : std::to_string(r) + "," + "pq"[r % 2] + ",\"two\n9,9,q\"\n";
    }
    return text;
  };
  struct Case {
    int bad_row;
    std::string bad, numeric, expect;
  };
  for (const Case& c : std::vector<Case>{{350, "1,p,\"x\ny\",extra\n", "", "row has 4 fields"},
                                         {300, "1,,\"x\ny\"\n", "", "target column 'y' is empty"},
                                         {260, "oops,p,\"x\ny\"\n", "a", "column 'a' is --numeric but holds 'oops'"},
                                         {399, "1,p,\"open\n", "", "never closed"}}) {
    std::ofstream(o.input, std::ios::binary | std::ios::trunc) << table(400, c.bad_row, c.bad);
    o.numeric = c.numeric.empty() ? std::vector<std::string>{} : std::vector<std::string>{c.numeric};
    const std::string where = "table.csv:" + std::to_string(2 + 2 * c.bad_row);
    try {
      data::read_tabular_csv(o, ranges);
      ADD_FAILURE() << "no error for: " << c.expect;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << where << ": " << e.what();
    }
  }
  // The same rows read in one range and in two to eight give the same dataset.
  std::ofstream(o.input, std::ios::binary | std::ios::trunc) << table(400, -1, "");
  o.numeric.clear();
  std::vector<std::string> one_range;
  for (int threads = 1; threads <= 8; ++threads) {
    ranges.threads = threads;
    o.output = output / ("t" + std::to_string(threads));
    data::prepare_output_dir(o.output, o.input, false);
    std::vector<std::string> written;
    const core::Manifest m = data::write_tabular(data::read_tabular_csv(o, ranges), o, written, ranges);
    EXPECT_EQ(m.class_names, (std::vector<std::string>{"p", "q"})) << threads << " ranges";
    std::vector<std::string> checksums;
    for (const auto& split : m.splits) {
      for (const auto& shard : split.shards) checksums.push_back(shard.checksum);
    }
    if (threads == 1) one_range = checksums;
    EXPECT_EQ(checksums, one_range) << threads << " ranges";
  }
  EXPECT_EQ(one_range.size(), 6u);
}

// A column with more distinct text values than the pass keeps is refused however the file is cut: here
// each of two ranges alone stays under the bound.
TEST(CsvStream, TooManyTextValuesWhateverTheRanges) {
  test::TempDir input, output;
  data::ConvertOptions o = table_options(input, output, "y");
  std::string text = "name,y\n";
  for (int i = 0; i < 1500; ++i) text += "n" + std::to_string(i) + "," + "pq"[i % 2] + "\n";
  std::ofstream(o.input, std::ios::binary) << text;
  data::TabularLimits limits;
  limits.min_range_bytes = 1;
  for (int threads : {1, 2}) {
    limits.threads = threads;
    try {
      data::read_tabular_csv(o, limits);
      ADD_FAILURE() << threads << " ranges: no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'name' has more than 1024 distinct values"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--max-categories 50"), std::string::npos) << e.what();
    }
  }
}

// The staging files live in a private directory under TMPDIR that goes when the conversion does.
TEST(CsvStream, StagingLeavesNothingBehind) {
  test::TempDir input, output, tmp;
  data::ConvertOptions o = table_options(input, output, "species");
  std::ofstream(o.input, std::ios::binary) << reference_table(300);
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  setenv("TMPDIR", tmp.path().c_str(), 1);
  {
    data::TabularPlan plan = data::read_tabular_csv(o);
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
    std::vector<std::string> written;
    data::write_tabular(plan, o, written);
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
  o.target = "nope";
  EXPECT_THROW(data::read_tabular_csv(o), Error);
  o.target = "species";
  o.numeric = {"color"};
  EXPECT_THROW(data::read_tabular_csv(o), Error);  // after the text pass
  EXPECT_TRUE(fs::is_empty(tmp.path()));
  if (old) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  EXPECT_FALSE(fs::exists(o.output + "/rows.staging"));
}

}  // namespace
}  // namespace strike
