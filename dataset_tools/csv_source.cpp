// CSV schema inference and fitting, and the shards of a tabular classification dataset.
#include "dataset_tools/csv_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/output_dir.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

// What the first pass learns about one column.
struct ColumnScan {
  bool all_numeric = true;   // every non-missing value parsed as a finite number
  bool has_missing = false;  // in any split
  int64_t first_bad_line = 0;
  std::string first_bad;     // the first value that is not a number, for --numeric errors
};

struct Header {
  std::vector<std::string> names;
  size_t target = 0;
};

Header read_header(CsvReader& reader, const ConvertOptions& o) {
  Header h;
  if (!reader.next(h.names)) {
    throw Error("the CSV file is empty", o.input, "the first row must name the columns");
  }
  std::set<std::string> seen;
  for (const auto& name : h.names) {
    if (!seen.insert(name).second) {
      throw Error("column '" + name + "' appears twice in the header", reader.where(), "give every column its own name");
    }
  }
  auto it = std::find(h.names.begin(), h.names.end(), o.target);
  if (it == h.names.end()) {
    throw Error("the target column '" + o.target + "' is not in the header", reader.where(),
                "pass --target with one of " + quoted_list(h.names));
  }
  h.target = static_cast<size_t>(it - h.names.begin());
  for (const auto* list : {&o.categorical, &o.numeric}) {
    const char* flag = list == &o.categorical ? "--categorical" : "--numeric";
    for (const auto& name : *list) {
      if (!seen.count(name)) {
        throw UsageError(std::string(flag) + " names '" + name + "', which is not a column", reader.where(),
                         "the columns are " + quoted_list(h.names));
      }
      if (name == o.target) throw UsageError(std::string(flag) + " names the target column '" + name + "'", "",
                                             "the target is always categorical");
    }
  }
  for (const auto& name : o.categorical) {
    if (std::count(o.numeric.begin(), o.numeric.end(), name)) {
      throw UsageError("column '" + name + "' is named by both --categorical and --numeric", "", "name it in one of them");
    }
  }
  return h;
}

void check_fields(const CsvReader& reader, const std::vector<std::string>& fields, const Header& h) {
  if (fields.size() != h.names.size()) {
    throw Error("row has " + std::to_string(fields.size()) + " fields, the header has " + std::to_string(h.names.size()),
                reader.where(), "quote fields that contain commas, and double quotes inside quoted fields");
  }
  if (is_missing(fields[h.target])) {
    throw Error("the target column '" + h.names[h.target] + "' is empty", reader.where(),
                "remove rows without a target value");
  }
}

// Values of the second pass, before encoding: numbers (NaN = missing) or per-column category ids.
struct RawColumn {
  std::vector<double> numbers;
  std::vector<int32_t> ids;  // -1 = missing
  std::unordered_map<std::string, int32_t> id_of;
  std::vector<std::string> values;  // by id
};

}  // namespace

bool is_csv_input(const std::string& kind, const std::string& input) {
  if (kind == "csv") return true;
  return kind == "auto" && fs::is_regular_file(input) && lower(fs::path(input).extension().string()) == ".csv";
}

TabularData read_tabular_csv(const ConvertOptions& o) {
  if (o.target.empty()) throw UsageError("no target column given", "", "pass --target COLUMN naming the class column");
  if (!fs::is_regular_file(o.input)) throw Error("the CSV file does not exist", o.input, "check the --input path");

  // Pass 1: field counts, targets, and which columns hold only numbers.
  CsvReader reader(o.input);
  const Header h = read_header(reader, o);
  const size_t columns = h.names.size();
  std::vector<ColumnScan> scans(columns);
  std::map<std::string, int64_t> class_of;
  std::vector<std::string> targets;  // per row; replaced by labels below
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    check_fields(reader, fields, h);
    for (size_t c = 0; c < columns; ++c) {
      if (c == h.target) continue;
      ColumnScan& s = scans[c];
      double value;
      if (is_missing(fields[c])) {
        s.has_missing = true;
      } else if (s.all_numeric && !parse_number(fields[c], value)) {
        s.all_numeric = false;
        s.first_bad_line = reader.line();
        s.first_bad = fields[c];
      }
    }
    class_of.emplace(fields[h.target], 0);
    targets.push_back(std::move(fields[h.target]));
  }
  if (targets.empty()) throw Error("the CSV file has a header but no rows", o.input, "add data rows");
  if (class_of.size() < 2) {
    throw Error("the target column '" + o.target + "' has only one class, '" + class_of.begin()->first + "'", o.input,
                "a classifier needs at least two classes; check --target");
  }

  TabularData data;
  for (auto& [name, index] : class_of) {
    index = static_cast<int64_t>(data.class_names.size());
    data.class_names.push_back(name);
  }
  data.labels.reserve(targets.size());
  for (const auto& t : targets) data.labels.push_back(class_of.at(t));
  targets = {};
  const int64_t rows = static_cast<int64_t>(data.labels.size());

  std::vector<ColumnKind> kinds(columns, ColumnKind::kNumeric);
  for (size_t c = 0; c < columns; ++c) {
    if (c == h.target) continue;
    const std::string& name = h.names[c];
    const bool forced_numeric = std::count(o.numeric.begin(), o.numeric.end(), name) > 0;
    const bool forced_categorical = std::count(o.categorical.begin(), o.categorical.end(), name) > 0;
    if (forced_numeric && !scans[c].all_numeric) {
      throw Error("column '" + name + "' is --numeric but holds '" + scans[c].first_bad + "', not a number",
                  o.input + ":" + std::to_string(scans[c].first_bad_line),
                  "fix the value (missing values are empty or NA), or leave the column out of --numeric");
    }
    kinds[c] = forced_categorical || !scans[c].all_numeric ? ColumnKind::kCategorical : ColumnKind::kNumeric;
  }

  data.split = stratified_split(data.labels, static_cast<int64_t>(data.class_names.size()), o.val_fraction,
                                o.test_fraction, o.seed);
  std::vector<bool> in_train(static_cast<size_t>(rows), false);
  for (int64_t i : data.split.train) in_train[static_cast<size_t>(i)] = true;

  // Pass 2: the values themselves, numbers parsed and categories interned per column.
  std::vector<RawColumn> raw(columns);
  CsvReader values(o.input);
  values.next(fields);
  for (int64_t row = 0; values.next(fields); ++row) {
    if (row >= rows) throw Error("the file grew while it was being converted", o.input, "convert a file nobody writes to");
    check_fields(values, fields, h);
    for (size_t c = 0; c < columns; ++c) {
      if (c == h.target) continue;
      RawColumn& col = raw[c];
      if (kinds[c] == ColumnKind::kNumeric) {
        double value = std::numeric_limits<double>::quiet_NaN();
        if (!is_missing(fields[c])) parse_number(fields[c], value);
        col.numbers.push_back(value);
      } else if (is_missing(fields[c])) {
        col.ids.push_back(-1);
      } else {
        auto [it, added] = col.id_of.emplace(fields[c], static_cast<int32_t>(col.values.size()));
        if (added) col.values.push_back(fields[c]);
        col.ids.push_back(it->second);
      }
    }
  }

  // Fit on train rows only, then lay out the numeric field: values first, indicators after them.
  TabularSchema& schema = data.schema;
  schema.target = o.target;
  int64_t numeric_at = 0, categorical_at = 0;
  std::vector<size_t> source_column;
  for (size_t c = 0; c < columns; ++c) {
    if (c == h.target) continue;
    RawColumn& col = raw[c];
    ColumnSchema fitted;
    if (kinds[c] == ColumnKind::kNumeric) {
      std::vector<double> train;
      for (int64_t r = 0; r < rows; ++r) {
        if (in_train[r] && !std::isnan(col.numbers[r])) train.push_back(col.numbers[r]);
      }
      fitted = fit_numeric(h.names[c], std::move(train), scans[c].has_missing);
      fitted.position = numeric_at++;
    } else {
      std::vector<bool> seen(col.values.size(), false);
      for (int64_t r = 0; r < rows; ++r) {
        if (in_train[r] && col.ids[r] >= 0) seen[col.ids[r]] = true;
      }
      std::vector<std::string> train;
      for (size_t id = 0; id < seen.size(); ++id) {
        if (seen[id]) train.push_back(col.values[id]);
      }
      if (static_cast<int64_t>(train.size()) > o.max_categories) {
        throw Error("column '" + h.names[c] + "' has " + std::to_string(train.size()) +
                        " distinct values in the train split, more than --max-categories " +
                        std::to_string(o.max_categories),
                    o.input,
                    "pass --numeric " + h.names[c] + " if it holds numbers, raise --max-categories, or drop the column");
      }
      fitted = fit_categorical(h.names[c], std::move(train));
      fitted.position = categorical_at++;
    }
    schema.columns.push_back(std::move(fitted));
    source_column.push_back(c);
  }
  for (auto& col : schema.columns) {
    if (col.kind == ColumnKind::kNumeric && col.has_missing) col.indicator = numeric_at++;
  }

  // Encode every row; the category id -> vocabulary index map is computed once per column.
  const int64_t nw = schema.numeric_width(), cw = schema.categorical_width();
  data.numeric.assign(static_cast<size_t>(rows * nw), 0.0f);
  data.categorical.assign(static_cast<size_t>(rows * cw), 0);
  for (size_t k = 0; k < schema.columns.size(); ++k) {
    const ColumnSchema& col = schema.columns[k];
    RawColumn& rc = raw[source_column[k]];
    if (col.kind == ColumnKind::kNumeric) {
      for (int64_t r = 0; r < rows; ++r) {
        data.numeric[r * nw + col.position] = col.encode_numeric(rc.numbers[r]);
        if (col.indicator >= 0) data.numeric[r * nw + col.indicator] = std::isnan(rc.numbers[r]) ? 1.0f : 0.0f;
      }
    } else {
      std::vector<int64_t> index_of(rc.values.size());
      for (size_t id = 0; id < rc.values.size(); ++id) index_of[id] = col.encode_category(rc.values[id]);
      for (int64_t r = 0; r < rows; ++r) {
        data.categorical[r * cw + col.position] = rc.ids[r] < 0 ? kMissingIndex : index_of[rc.ids[r]];
      }
    }
    rc = RawColumn{};  // encoded: release the raw values early
  }
  return data;
}

core::Manifest write_tabular(const TabularData& data, const ConvertOptions& o, std::vector<std::string>& written) {
  const int64_t nw = data.schema.numeric_width(), cw = data.schema.categorical_width();
  core::Manifest m;
  m.task = "tabular_classification";
  m.source = "csv";
  if (nw > 0) m.fields.push_back({"numeric", "float32", {nw}});
  if (cw > 0) m.fields.push_back({"categorical", "int64", {cw}});
  m.fields.push_back({"label", "int64", {}});
  m.class_names = data.class_names;
  m.extra = {{"input", fs::absolute(o.input).string()}, {"seed", o.seed},
             {"shards", o.shards},                      {"val_fraction", o.val_fraction},
             {"test_fraction", o.test_fraction},        {"target", o.target},
             {"max_categories", o.max_categories},      {"schema", data.schema.to_json()},
             {"class_counts", nlohmann::json::object()}};

  const std::vector<std::pair<std::string, std::vector<int64_t>>> splits = {
      {"train", data.split.train}, {"val", data.split.val}, {"test", data.split.test}};
  const int64_t train_samples = static_cast<int64_t>(data.split.train.size());
  if (train_samples == 0) {
    throw Error("no training rows remain after carving val/test", o.input, "lower --val-fraction/--test-fraction");
  }
  std::vector<float> numeric;
  std::vector<int64_t> categorical, labels;
  for (size_t s = 0; s < splits.size(); ++s) {
    std::vector<int64_t> order = splits[s].second;
    if (order.empty()) continue;
    shuffle_split(order, o.seed, s);
    const std::string& name = splits[s].first;
    const int64_t n = static_cast<int64_t>(order.size());
    const int64_t shards = split_shard_count(o, n, train_samples, s == 0);
    core::SplitInfo info{name, n, {}};
    std::vector<int64_t> counts(data.class_names.size(), 0);
    for (int64_t k = 0; k < shards; ++k) {
      const int64_t begin = k * n / shards, end = (k + 1) * n / shards;
      numeric.clear();
      categorical.clear();
      labels.clear();
      for (int64_t i = begin; i < end; ++i) {
        const int64_t r = order[i];
        numeric.insert(numeric.end(), data.numeric.begin() + r * nw, data.numeric.begin() + (r + 1) * nw);
        categorical.insert(categorical.end(), data.categorical.begin() + r * cw, data.categorical.begin() + (r + 1) * cw);
        labels.push_back(data.labels[r]);
        ++counts[data.labels[r]];
      }
      const std::string path = (fs::path(o.output) / shard_file_name(name, k, shards)).string();
      written.push_back(path);
      core::ShardWriter writer(path, m.fields, end - begin);
      if (nw > 0) writer.append("numeric", numeric.data(), end - begin);
      if (cw > 0) writer.append("categorical", categorical.data(), end - begin);
      writer.append("label", labels.data(), end - begin);
      info.shards.push_back(writer.finish());
    }
    spdlog::info("{}: {} rows in {} shard(s)", name, n, shards);
    m.splits.push_back(info);
    m.extra["class_counts"][name] = counts;
  }
  return m;
}

}  // namespace strike::data
