// CSV conversion: the text read once into binary rows; over them the split, the schema's fit and the rows staged in shard order; the shards.
#include "dataset_tools/csv_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <set>

#include "core/checksum.h"
#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/csv_reader.h"
#include "dataset_tools/csv_text_pass.h"
#include "dataset_tools/numeric_fit.h"
#include "dataset_tools/ordered_staging.h"
#include "dataset_tools/output_dir.h"
#include "dataset_tools/parallel.h"
#include "dataset_tools/split.h"
#include "dataset_tools/staging_dir.h"

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

struct Header {
  std::vector<std::string> names;
  size_t target = 0;
  int64_t data_begin = 0, data_line = 2;  // where the first data row starts: file offset and line
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
  h.data_begin = reader.offset();
  h.data_line = reader.next_line();
  return h;
}

// A staged row: the numeric columns' values as read (NaN = missing), the categorical columns' value ids
// (-1 = missing), then the label; the median and std the numbers are encoded with, and which values are
// in the train vocabulary, are only known once all rows are staged.
class StagedRow {
 public:
  StagedRow(int64_t numeric, int64_t categorical)
      : numeric_(static_cast<size_t>(numeric)), label_at_(numeric * 8 + categorical * 4), bytes_(label_at_ + 4) {}
  int64_t bytes() const { return bytes_; }
  void set_label(char* record, int64_t label) const {
    const int32_t value = static_cast<int32_t>(label);
    std::memcpy(record + label_at_, &value, 4);
  }
  int64_t label(const char* record) const {
    int32_t value;
    std::memcpy(&value, record + label_at_, 4);
    return value;
  }
  void set_number(char* record, size_t j, double value) const { std::memcpy(record + j * 8, &value, 8); }
  double number(const char* record, size_t j) const {
    double value;
    std::memcpy(&value, record + j * 8, 8);
    return value;
  }
  void set_code(char* record, size_t k, int32_t code) const { std::memcpy(record + numeric_ * 8 + k * 4, &code, 4); }
  int32_t code(const char* record, size_t k) const {
    int32_t code;
    std::memcpy(&code, record + numeric_ * 8 + k * 4, 4);
    return code;
  }

 private:
  size_t numeric_;
  int64_t label_at_, bytes_;
};

// One output split: its rows occupy staging positions [begin, begin + rows), in SplitOrder's order.
struct SplitPlace {
  std::string name;
  int64_t begin = 0, rows = 0;
};

bool named(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Reads the text into binary rows; reads it again when a column that may be numeric mixed numbers and
// text: it is categorical, and its numbers are categories by their text.
TextPass read_text(const ConvertOptions& o, const Header& h, const TabularLimits& limits, const std::string& dir) {
  TextPassOptions to;
  to.path = o.input;
  to.header = h.names;
  to.target = h.target;
  for (const auto& name : h.names) to.modes.push_back(named(o.categorical, name) ? CellMode::kText : CellMode::kNumber);
  to.data_begin = h.data_begin;
  to.data_line = h.data_line;
  // Far more than a categorical column's train split may have: only a bound on memory.
  to.max_values = std::max<int64_t>(1024, 4 * o.max_categories);
  to.too_many_hint = [&o](const std::string& column) {
    return "a categorical column may have at most --max-categories " + std::to_string(o.max_categories) +
           " distinct train values: pass --numeric " + column + " if it holds numbers, raise --max-categories, or drop the column";
  };
  to.threads = limits.threads > 0 ? limits.threads : std::min(available_cores(), 8);
  to.min_range_bytes = limits.min_range_bytes;
  to.staging_dir = dir;
  TextPass pass = run_text_pass(to);
  bool again = false;
  for (size_t c = 0; c < h.names.size(); ++c) {
    const ColumnReport& col = pass.columns[c];
    if (c != h.target && to.modes[c] == CellMode::kNumber && !named(o.numeric, h.names[c]) && col.has_number &&
        col.has_text) {
      to.modes[c] = CellMode::kText;
      again = true;
    }
  }
  if (!again) return pass;
  for (const RowFile& file : pass.files) fs::remove(file.path);
  return run_text_pass(to);
}

std::vector<ColumnKind> column_kinds(const TextPass& pass, const Header& h, const ConvertOptions& o) {
  std::vector<ColumnKind> kinds(h.names.size(), ColumnKind::kNumeric);
  for (size_t c = 0; c < h.names.size(); ++c) {
    if (c == h.target) continue;
    const std::string& name = h.names[c];
    const ColumnReport& col = pass.columns[c];
    if (named(o.numeric, name) && col.has_text) {
      throw Error("column '" + name + "' is --numeric but holds '" + col.first_text + "', not a number",
                  o.input + ":" + std::to_string(col.first_text_line),
                  "fix the value (missing values are empty or NA), or leave the column out of --numeric");
    }
    kinds[c] = named(o.categorical, name) || col.has_text ? ColumnKind::kCategorical : ColumnKind::kNumeric;
  }
  return kinds;
}

}  // namespace

// The binary rows gathered in shard order (in a staging directory), and how to encode them.
struct StagedTable {
  StagingDir dir{"strike-csv"};
  StagedRow layout{0, 0};
  std::unique_ptr<OrderedStaging> staging;  // in `dir`, so declared after it: removed before it
  std::vector<SplitPlace> places;           // train, val, test, one after another
  std::vector<std::vector<int32_t>> vocabulary_index;  // per categorical column: value id -> vocabulary index
};

namespace {

// Which header columns feed the staged row's numbers and codes, in CSV order.
struct Columns {
  std::vector<size_t> numeric, categorical;
  Columns(const std::vector<ColumnKind>& kinds, size_t target) {
    for (size_t c = 0; c < kinds.size(); ++c) {
      if (c != target) (kinds[c] == ColumnKind::kNumeric ? numeric : categorical).push_back(c);
    }
  }
};

// A header column's cell in a binary row: after the class id, in header order without the target.
size_t cell_at(size_t column, size_t target) { return 4 + 8 * (column < target ? column : column - 1); }

// Calls on_row(file, row, label, part) for every binary row in file order. Each walk picks the parts
// with its own copy of `selector`, so walks on two threads make the same choices.
template <typename OnRow>
void for_each_row(const TextPass& pass, const std::vector<int64_t>& label_of, SplitSelector selector, OnRow&& on_row) {
  for (const RowFile& file : pass.files) {
    RowFileReader reader(file.path, pass.record_bytes);
    while (const char* row = reader.next()) {
      int32_t local;
      std::memcpy(&local, row, 4);
      const int64_t label = label_of[static_cast<size_t>(file.class_ids[static_cast<size_t>(local)])];
      on_row(file, row, label, selector.next(label));
    }
  }
}

// The numeric fits over the train values: the first pass in file order, then as many more as the exact
// medians want (one, for most data). They run beside stage_rows, which takes longer than a pass.
void fit_numbers(const TextPass& pass, const Columns& columns, size_t target, const std::vector<int64_t>& label_of,
                 const SplitSelector& selector, std::vector<NumericFit>& fits) {
  for (bool fitted = false; !fitted;) {
    for_each_row(pass, label_of, selector, [&](const RowFile&, const char* row, int64_t, Part part) {
      if (part != Part::kTrain) return;
      for (size_t j = 0; j < columns.numeric.size(); ++j) {
        double value;
        std::memcpy(&value, row + cell_at(columns.numeric[j], target), 8);
        if (!fits[j].done() && !std::isnan(value)) fits[j].add(value);  // missing is a NaN
      }
    });
    fitted = true;
    for (NumericFit& fit : fits) fitted = (fit.done() || fit.end_pass()) && fitted;
  }
}

// Every binary row staged at its place in its split, and which categorical values train has.
void stage_rows(const TextPass& pass, const Columns& columns, size_t target, const std::vector<int64_t>& label_of,
                const SplitSelector& selector, uint64_t seed, StagedTable& table,
                std::vector<std::vector<bool>>& in_train) {
  std::vector<SplitOrder> orders;
  for (size_t s = 0; s < table.places.size(); ++s) orders.emplace_back(table.places[s].rows, seed, s);
  int64_t placed[3] = {0, 0, 0};  // rows of each split so far
  const StagedRow& layout = table.layout;
  std::vector<char> staged(static_cast<size_t>(layout.bytes()));
  for_each_row(pass, label_of, selector, [&](const RowFile& file, const char* row, int64_t label, Part part) {
    layout.set_label(staged.data(), label);
    for (size_t j = 0; j < columns.numeric.size(); ++j) {
      double value;
      std::memcpy(&value, row + cell_at(columns.numeric[j], target), 8);
      layout.set_number(staged.data(), j, value);
    }
    for (size_t k = 0; k < columns.categorical.size(); ++k) {
      const size_t c = columns.categorical[k];
      uint64_t bits;
      std::memcpy(&bits, row + cell_at(c, target), 8);
      int32_t code = -1;
      if (bits != cell::kMissing) {
        // read_text reads a column that mixes numbers and text again as text: a number here is a bug.
        if (!cell::is_text(bits)) throw Error("a number in categorical column " + std::to_string(c), file.path, "this is a bug");
        code = static_cast<int32_t>(file.value_ids[c][cell::text_id(bits)]);
        if (part == Part::kTrain) in_train[k][static_cast<size_t>(code)] = true;
      }
      layout.set_code(staged.data(), k, code);
    }
    const size_t s = static_cast<size_t>(part);
    table.staging->put(table.places[s].begin + orders[s].position(placed[s]++), staged.data());
  });
  table.staging->finish_writing();
}

// A categorical column's vocabulary from the values train has, and each value id's index in it.
ColumnSchema fit_vocabulary(const std::string& name, const std::vector<std::string>& values,
                            const std::vector<bool>& in_train, const ConvertOptions& o, std::vector<int32_t>& index) {
  std::vector<std::string> train;
  for (size_t id = 0; id < values.size(); ++id) {
    if (in_train[id]) train.push_back(values[id]);
  }
  if (static_cast<int64_t>(train.size()) > o.max_categories) {
    throw Error("column '" + name + "' has " + std::to_string(train.size()) +
                    " distinct values in the train split, more than --max-categories " + std::to_string(o.max_categories),
                o.input, "pass --numeric " + name + " if it holds numbers, raise --max-categories, or drop the column");
  }
  ColumnSchema column = fit_categorical(name, std::move(train));
  if (column.vocabulary.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw Error("column '" + name + "' has more than 2^31 categories", o.input, "lower --max-categories");
  }
  const auto first = column.vocabulary.begin() + 2;  // after <unknown> and <missing>: the sorted values
  index.assign(values.size(), static_cast<int32_t>(kUnknownIndex));
  for (size_t id = 0; id < values.size(); ++id) {
    if (in_train[id]) index[id] = static_cast<int32_t>(std::lower_bound(first, column.vocabulary.end(), values[id]) -
                                                       column.vocabulary.begin());
  }
  return column;
}

// Encodes staged rows into a shard's "numeric", "categorical" and "label" rows with the fitted schema.
class RowEncoder {
 public:
  RowEncoder(const TabularSchema& schema, const StagedTable& table)
      : table_(table), numeric_width_(schema.numeric_width()), categorical_width_(schema.categorical_width()) {
    for (const auto& col : schema.columns) (col.kind == ColumnKind::kNumeric ? numeric_ : categorical_).push_back(&col);
  }
  void encode(const char* staged, int64_t count, std::vector<float>& numeric, std::vector<int64_t>& categorical,
              std::vector<int64_t>& labels) const {
    const StagedRow& layout = table_.layout;
    numeric.resize(static_cast<size_t>(count * numeric_width_));
    categorical.resize(static_cast<size_t>(count * categorical_width_));
    labels.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const char* record = staged + i * layout.bytes();
      labels[static_cast<size_t>(i)] = layout.label(record);
      float* out = numeric.data() + i * numeric_width_;
      for (size_t j = 0; j < numeric_.size(); ++j) {
        const double value = layout.number(record, j);
        out[numeric_[j]->position] = numeric_[j]->encode_numeric(value);
        if (numeric_[j]->indicator >= 0) out[numeric_[j]->indicator] = std::isnan(value) ? 1.0f : 0.0f;
      }
      for (size_t k = 0; k < categorical_.size(); ++k) {
        const int32_t code = layout.code(record, k);
        categorical[static_cast<size_t>(i * categorical_width_ + categorical_[k]->position)] =
            code < 0 ? kMissingIndex : table_.vocabulary_index[k][static_cast<size_t>(code)];
      }
    }
  }

 private:
  const StagedTable& table_;
  int64_t numeric_width_, categorical_width_;
  std::vector<const ColumnSchema*> numeric_, categorical_;  // in staging order
};

}  // namespace

bool is_csv_input(const std::string& kind, const std::string& input) {
  if (kind == "csv") return true;
  return kind == "auto" && fs::is_regular_file(input) && lower(fs::path(input).extension().string()) == ".csv";
}

TabularPlan read_tabular_csv(const ConvertOptions& o, const TabularLimits& limits) {
  if (o.target.empty()) throw UsageError("no target column given", "", "pass --target COLUMN naming the class column");
  if (!fs::is_regular_file(o.input)) throw Error("the CSV file does not exist", o.input, "check the --input path");
  Header h;
  {
    CsvReader reader(o.input);
    h = read_header(reader, o);
  }
  auto table = std::make_shared<StagedTable>();
  const TextPass pass = read_text(o, h, limits, table->dir.path());
  if (pass.rows() == 0) throw Error("the CSV file has a header but no rows", o.input, "add data rows");

  // Labels are indices among the sorted class names.
  TabularPlan plan;
  plan.class_names = pass.classes;
  std::sort(plan.class_names.begin(), plan.class_names.end());
  if (plan.class_names.size() < 2) {
    throw Error("the target column '" + o.target + "' has only one class, '" + plan.class_names.front() + "'", o.input,
                "a classifier needs at least two classes; check --target");
  }
  std::vector<int64_t> label_of, class_counts(plan.class_names.size(), 0);
  for (size_t id = 0; id < pass.classes.size(); ++id) {
    label_of.push_back(std::lower_bound(plan.class_names.begin(), plan.class_names.end(), pass.classes[id]) -
                       plan.class_names.begin());
    class_counts[static_cast<size_t>(label_of.back())] = pass.class_counts[id];
  }
  SplitSelector selector(class_counts, o.val_fraction, o.test_fraction, o.seed);
  if (selector.total(Part::kTrain) == 0) {
    throw Error("no training rows remain after carving val/test", o.input, "lower --val-fraction/--test-fraction");
  }

  const std::vector<ColumnKind> kinds = column_kinds(pass, h, o);
  const Columns columns(kinds, h.target);
  table->layout = StagedRow(static_cast<int64_t>(columns.numeric.size()), static_cast<int64_t>(columns.categorical.size()));
  int64_t begin = 0;
  for (Part part : {Part::kTrain, Part::kVal, Part::kTest}) {
    table->places.push_back({part_name(part), begin, selector.total(part)});
    begin += selector.total(part);
  }
  table->staging = std::make_unique<OrderedStaging>((fs::path(table->dir.path()) / "rows.staging").string(),
                                                    table->layout.bytes(), begin, limits.chunk_bytes);
  // A smaller share only costs passes over the binary rows, at most three more.
  const int64_t median_values =
      limits.median_values / std::max<int64_t>(1, static_cast<int64_t>(columns.numeric.size()));
  std::vector<NumericFit> fits(columns.numeric.size(), NumericFit(median_values));
  std::vector<std::vector<bool>> in_train;
  for (size_t c : columns.categorical) in_train.emplace_back(pass.values[c].size(), false);
  // The fits read the rows on another thread while they are staged here.
  auto fitting = std::async(std::launch::async, fit_numbers, std::cref(pass), std::cref(columns), h.target,
                            std::cref(label_of), std::cref(selector), std::ref(fits));
  stage_rows(pass, columns, h.target, label_of, selector, o.seed, *table, in_train);
  fitting.get();
  for (const RowFile& file : pass.files) fs::remove(file.path);  // all is staged and fitted now

  // The schema: the feature columns in CSV order; numeric values first in their field, indicators after them.
  TabularSchema& schema = plan.schema;
  schema.target = o.target;
  table->vocabulary_index.resize(columns.categorical.size());
  int64_t numeric_at = 0, categorical_at = 0;
  for (size_t c = 0; c < kinds.size(); ++c) {
    if (c == h.target) continue;
    ColumnSchema fitted;
    if (kinds[c] == ColumnKind::kNumeric) {
      fitted.name = h.names[c];
      fitted.kind = ColumnKind::kNumeric;
      fitted.has_missing = pass.columns[c].has_missing;
      fits[static_cast<size_t>(numeric_at)].apply(fitted);
      fitted.position = numeric_at++;
    } else {
      const auto k = static_cast<size_t>(categorical_at);
      fitted = fit_vocabulary(h.names[c], pass.values[c], in_train[k], o, table->vocabulary_index[k]);
      fitted.position = categorical_at++;
    }
    schema.columns.push_back(std::move(fitted));
  }
  for (auto& col : schema.columns) {
    if (col.kind == ColumnKind::kNumeric && col.has_missing) col.indicator = numeric_at++;
  }
  plan.staged = std::move(table);
  return plan;
}

core::Manifest write_tabular(const TabularPlan& plan, const ConvertOptions& o, std::vector<std::string>& written,
                             const TabularLimits& limits) {
  StagedTable& table = *plan.staged;
  const StagedRow& layout = table.layout;
  const std::vector<SplitPlace>& places = table.places;
  const int64_t train_rows = places[0].rows;

  const TabularSchema& schema = plan.schema;
  const int64_t nw = schema.numeric_width(), cw = schema.categorical_width();
  core::Manifest m;
  m.task = "tabular_classification";
  m.source = "csv";
  if (nw > 0) m.fields.push_back({"numeric", "float32", {nw}});
  if (cw > 0) m.fields.push_back({"categorical", "int64", {cw}});
  m.fields.push_back({"label", "int64", {}});
  m.class_names = plan.class_names;
  m.extra = {{"input", fs::absolute(o.input).string()}, {"seed", o.seed},
             {"shards", o.shards},                      {"val_fraction", o.val_fraction},
             {"test_fraction", o.test_fraction},        {"target", o.target},
             {"max_categories", o.max_categories},      {"schema", schema.to_json()},
             {"class_counts", nlohmann::json::object()}};

  // Each split's positions in order, gathered from the staging file and encoded in bounded chunks; the
  // next chunk is gathered and encoded, and finished shards are checksummed, while HDF5 writes.
  struct Chunk {
    size_t split;
    int64_t shard, shards, first, count;  // staging positions [first, first + count) of the split
    bool last;                            // of its shard
  };
  std::vector<Chunk> chunks;
  std::vector<int64_t> split_shards(places.size(), 0);
  const int64_t chunk_rows = std::max<int64_t>(1, limits.chunk_bytes / 8 / std::max<int64_t>(1, layout.bytes()));
  for (size_t s = 0; s < places.size(); ++s) {
    const int64_t n = places[s].rows;
    const int64_t shards = split_shards[s] = n == 0 ? 0 : split_shard_count(o, n, train_rows, s == 0);
    for (int64_t k = 0; k < shards; ++k) {
      const int64_t end = (k + 1) * n / shards;
      for (int64_t first = k * n / shards; first < end; first += chunk_rows) {
        chunks.push_back({s, k, shards, first, std::min(chunk_rows, end - first), first + chunk_rows >= end});
      }
    }
  }
  struct Encoded {
    std::vector<char> staged;
    std::vector<float> numeric;
    std::vector<int64_t> categorical, labels;
  };
  Encoded buffers[2];
  const RowEncoder encoder(schema, table);
  auto encode = [&](size_t c) {
    Encoded& e = buffers[c % 2];
    const Chunk& chunk = chunks[c];
    e.staged.resize(static_cast<size_t>(chunk.count * layout.bytes()));
    table.staging->read(places[chunk.split].begin + chunk.first, chunk.count, e.staged.data());
    encoder.encode(e.staged.data(), chunk.count, e.numeric, e.categorical, e.labels);
  };
  std::vector<std::vector<int64_t>> counts(places.size(), std::vector<int64_t>(plan.class_names.size(), 0));
  std::vector<std::future<core::ShardInfo>> committed;  // in shard order
  std::unique_ptr<core::ShardWriter> writer;
  std::future<void> ahead;  // encodes chunk c while chunk c - 1 is written
  if (!chunks.empty()) encode(0);
  for (size_t c = 0; c < chunks.size(); ++c) {
    if (ahead.valid()) ahead.get();  // chunk c is encoded
    if (c + 1 < chunks.size()) ahead = std::async(std::launch::async, encode, c + 1);
    const Chunk& chunk = chunks[c];
    const std::string& split = places[chunk.split].name;
    if (!writer) {
      const int64_t n = places[chunk.split].rows;
      const std::string path = (fs::path(o.output) / shard_file_name(split, chunk.shard, chunk.shards)).string();
      written.push_back(path);
      writer = std::make_unique<core::ShardWriter>(path, m.fields,
                                                   (chunk.shard + 1) * n / chunk.shards - chunk.shard * n / chunk.shards);
    }
    const Encoded& e = buffers[c % 2];
    for (int64_t label : e.labels) ++counts[chunk.split][static_cast<size_t>(label)];
    if (nw > 0) writer->append("numeric", e.numeric.data(), chunk.count);
    if (cw > 0) writer->append("categorical", e.categorical.data(), chunk.count);
    writer->append("label", e.labels.data(), chunk.count);
    if (chunk.last) {
      writer->close();
      committed.push_back(std::async(std::launch::async, [w = std::shared_ptr<core::ShardWriter>(std::move(writer))] {
        core::ShardInfo info = w->commit();
        info.checksum = core::file_checksum(w->path());
        return info;
      }));
    }
  }
  size_t next = 0;
  for (size_t s = 0; s < places.size(); ++s) {
    if (places[s].rows == 0) continue;
    core::SplitInfo info{places[s].name, places[s].rows, {}};
    for (int64_t k = 0; k < split_shards[s]; ++k) info.shards.push_back(committed[next++].get());
    spdlog::info("{}: {} rows in {} shard(s)", info.name, info.samples, split_shards[s]);
    m.splits.push_back(std::move(info));
    m.extra["class_counts"][places[s].name] = counts[s];
  }
  return m;
}

}  // namespace strike::data
