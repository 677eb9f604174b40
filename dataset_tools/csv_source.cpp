// CSV conversion: schema inference and fitting, encoding through an ordered staging file, and the shards.
#include "dataset_tools/csv_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <set>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/csv_reader.h"
#include "dataset_tools/ordered_staging.h"
#include "dataset_tools/output_dir.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStagingFile = ".rows.staging";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

// Distinct strings, each with the id of its first appearance; a string already held costs no allocation.
class StringIds {
 public:
  int64_t id(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    strings_.emplace_back(s);
    return ids_.emplace(strings_.back(), static_cast<int64_t>(strings_.size()) - 1).first->second;
  }
  const std::deque<std::string>& strings() const { return strings_; }  // by id

 private:
  std::deque<std::string> strings_;  // a deque never moves what it holds: the keys below point into it
  std::unordered_map<std::string_view, int64_t> ids_;
};

// What the first pass learns about one column.
struct ColumnScan {
  bool all_numeric = true;   // every non-missing value parsed as a finite number
  bool has_missing = false;  // in any split (only learnt while the column looks numeric)
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

void check_fields(const CsvReader& reader, const std::vector<std::string_view>& fields, const Header& h) {
  if (fields.size() != h.names.size()) {
    throw Error("row has " + std::to_string(fields.size()) + " fields, the header has " + std::to_string(h.names.size()),
                reader.where(), "quote fields that contain commas, and double quotes inside quoted fields");
  }
  if (is_missing(fields[h.target])) {
    throw Error("the target column '" + h.names[h.target] + "' is empty", reader.where(),
                "remove rows without a target value");
  }
}

// Another pass over the file: its header read and skipped, each row checked against the first pass.
class Rescan {
 public:
  Rescan(const std::string& path, const Header& header, int64_t rows)
      : path_(path), header_(header), rows_(rows), reader_(path) {
    reader_.next(fields_);
  }
  // The next row's fields, or nullptr after the last row.
  const std::vector<std::string_view>* next() {
    if (!reader_.next(fields_)) {
      if (row_ != rows_) {
        throw Error("the file changed while it was being converted: " + std::to_string(row_) + " data rows now, " +
                        std::to_string(rows_) + " before",
                    path_, "convert a file nobody writes to");
      }
      return nullptr;
    }
    if (row_++ >= rows_) throw Error("the file grew while it was being converted", path_, "convert a file nobody writes to");
    check_fields(reader_, fields_, header_);
    return &fields_;
  }
  int64_t row() const { return row_ - 1; }  // of the fields last returned, from 0

 private:
  std::string path_;
  const Header& header_;
  int64_t rows_, row_ = 0;
  CsvReader reader_;
  std::vector<std::string_view> fields_;
};

// The value of a numeric field, NaN when missing (or, should the file have changed, not a number).
double number_or_nan(std::string_view field) {
  double value;
  return parse_number(field, value) ? value : std::numeric_limits<double>::quiet_NaN();
}

// Pass 1: field counts, the classes and their sizes, and which columns hold only numbers.
struct Scan {
  Header header;
  std::vector<ColumnScan> columns;
  std::vector<std::string> class_names;
  std::vector<int64_t> class_counts;  // by class
};

Scan scan_csv(const ConvertOptions& o) {
  Scan scan;
  CsvReader reader(o.input);
  scan.header = read_header(reader, o);
  const Header& h = scan.header;
  scan.columns.resize(h.names.size());
  StringIds classes;
  std::vector<int64_t> counts;  // by first appearance
  std::vector<std::string_view> fields;
  while (reader.next(fields)) {
    check_fields(reader, fields, h);
    for (size_t c = 0; c < fields.size(); ++c) {
      ColumnScan& s = scan.columns[c];
      if (c == h.target || !s.all_numeric) continue;  // a column that is not numeric has nothing more to tell
      double value;
      if (parse_number(fields[c], value)) continue;  // the common case first: a number is never missing
      if (is_missing(fields[c])) {
        s.has_missing = true;
      } else {
        s.all_numeric = false;
        s.first_bad_line = reader.line();
        s.first_bad = std::string(fields[c]);
      }
    }
    const size_t first = static_cast<size_t>(classes.id(fields[h.target]));
    if (first == counts.size()) counts.push_back(0);
    ++counts[first];
  }
  if (counts.empty()) throw Error("the CSV file has a header but no rows", o.input, "add data rows");
  std::vector<std::string> names(classes.strings().begin(), classes.strings().end());
  std::sort(names.begin(), names.end());
  if (names.size() < 2) {
    throw Error("the target column '" + o.target + "' has only one class, '" + names.front() + "'", o.input,
                "a classifier needs at least two classes; check --target");
  }
  scan.class_counts.assign(names.size(), 0);
  for (size_t first = 0; first < names.size(); ++first) {
    const std::string& name = classes.strings()[first];
    scan.class_counts[static_cast<size_t>(std::lower_bound(names.begin(), names.end(), name) - names.begin())] =
        counts[first];
  }
  scan.class_names = std::move(names);
  return scan;
}

std::vector<ColumnKind> column_kinds(const Scan& scan, const ConvertOptions& o) {
  std::vector<ColumnKind> kinds(scan.columns.size(), ColumnKind::kNumeric);
  for (size_t c = 0; c < scan.columns.size(); ++c) {
    if (c == scan.header.target) continue;
    const std::string& name = scan.header.names[c];
    const bool forced_numeric = std::count(o.numeric.begin(), o.numeric.end(), name) > 0;
    const bool forced_categorical = std::count(o.categorical.begin(), o.categorical.end(), name) > 0;
    if (forced_numeric && !scan.columns[c].all_numeric) {
      throw Error("column '" + name + "' is --numeric but holds '" + scan.columns[c].first_bad + "', not a number",
                  o.input + ":" + std::to_string(scan.columns[c].first_bad_line),
                  "fix the value (missing values are empty or NA), or leave the column out of --numeric");
    }
    kinds[c] = forced_categorical || !scan.columns[c].all_numeric ? ColumnKind::kCategorical : ColumnKind::kNumeric;
  }
  return kinds;
}

// The label (index among the sorted class names) and split part of each row of a pass after the first,
// in file order: every pass makes its own, so all make the same choices without a per-row record of
// them. A target value pass 1 did not see, or more rows of a class than it counted, means the file
// changed in between.
class RowParts {
 public:
  RowParts(const TabularPlan& plan, const ConvertOptions& o)
      : selector_(plan.class_counts, o.val_fraction, o.test_fraction, o.seed), path_(o.input) {
    for (size_t i = 0; i < plan.class_names.size(); ++i) index_.emplace(plan.class_names[i], static_cast<int64_t>(i));
  }
  struct Row {
    int64_t label;
    Part part;
  };
  Row next(std::string_view target) {
    auto it = index_.find(target);
    if (it == index_.end()) changed("a new class '" + std::string(target) + "'");
    try {
      return {it->second, selector_.next(it->second)};
    } catch (const Error&) {  // the class has more rows than pass 1 counted
      changed("more rows of class '" + std::string(target) + "' than before");
    }
  }
  int64_t rows(Part part) const { return selector_.total(part); }
  int64_t rows() const { return rows(Part::kTrain) + rows(Part::kVal) + rows(Part::kTest); }

 private:
  [[noreturn]] void changed(const std::string& what) const {
    throw Error("the file changed while it was being converted: " + what, path_, "convert a file nobody writes to");
  }
  SplitSelector selector_;
  std::string path_;
  std::unordered_map<std::string_view, int64_t> index_;  // views of the plan's class names
};

// Pass 2, on train rows only: the categorical columns' distinct values and the numeric columns' sums
// (and their medians' first pass). Lays out the numeric field: values first, indicators after them.
void fit_on_train(TabularPlan& plan, const Scan& scan, const std::vector<ColumnKind>& kinds, const ConvertOptions& o,
                  const TabularLimits& limits) {
  const Header& h = scan.header;
  RowParts parts(plan, o);

  std::vector<size_t> numeric, categorical;  // header columns of each kind, in CSV order
  for (size_t c = 0; c < kinds.size(); ++c) {
    if (c != h.target) (kinds[c] == ColumnKind::kNumeric ? numeric : categorical).push_back(c);
  }
  // A smaller share only costs passes over the staged rows, at most three.
  const int64_t median_values = limits.median_values / std::max<int64_t>(1, static_cast<int64_t>(numeric.size()));
  std::vector<NumericFit> fits(numeric.size(), NumericFit(median_values));
  std::vector<StringIds> values(categorical.size());
  Rescan rescan(o.input, h, parts.rows());
  while (const auto* fields = rescan.next()) {
    if (parts.next((*fields)[h.target]).part != Part::kTrain) continue;
    for (size_t j = 0; j < numeric.size(); ++j) {
      const double value = number_or_nan((*fields)[numeric[j]]);
      if (!std::isnan(value)) fits[j].add(value);
    }
    for (size_t k = 0; k < categorical.size(); ++k) {
      const std::string_view value = (*fields)[categorical[k]];
      if (!is_missing(value)) values[k].id(value);
    }
  }
  for (NumericFit& fit : fits) fit.end_pass();

  TabularSchema& schema = plan.schema;
  schema.target = o.target;
  int64_t numeric_at = 0, categorical_at = 0;
  for (size_t c = 0; c < kinds.size(); ++c) {
    if (c == h.target) continue;
    ColumnSchema fitted;
    if (kinds[c] == ColumnKind::kNumeric) {
      fitted.name = h.names[c];
      fitted.kind = ColumnKind::kNumeric;
      fitted.has_missing = scan.columns[c].has_missing;
      fitted.position = numeric_at++;
    } else {
      const auto& distinct = values[static_cast<size_t>(categorical_at)].strings();
      if (static_cast<int64_t>(distinct.size()) > o.max_categories) {
        throw Error("column '" + h.names[c] + "' has " + std::to_string(distinct.size()) +
                        " distinct values in the train split, more than --max-categories " +
                        std::to_string(o.max_categories),
                    o.input,
                    "pass --numeric " + h.names[c] + " if it holds numbers, raise --max-categories, or drop the column");
      }
      fitted = fit_categorical(h.names[c], std::vector<std::string>(distinct.begin(), distinct.end()));
      fitted.position = categorical_at++;
    }
    schema.columns.push_back(std::move(fitted));
    plan.source_column.push_back(c);
  }
  for (auto& col : schema.columns) {
    if (col.kind == ColumnKind::kNumeric && col.has_missing) col.indicator = numeric_at++;
  }
  plan.numeric_fits = std::move(fits);
}

// A staged row: the numeric columns' values as read (NaN = missing), the categorical columns'
// vocabulary indices, then the label; the median and std the numbers are encoded with are only known
// once all rows are staged.
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
  void set_index(char* record, size_t k, int32_t index) const { std::memcpy(record + numeric_ * 8 + k * 4, &index, 4); }
  int32_t index(const char* record, size_t k) const {
    int32_t index;
    std::memcpy(&index, record + numeric_ * 8 + k * 4, 4);
    return index;
  }

 private:
  size_t numeric_;
  int64_t label_at_, bytes_;
};

// A categorical column's vocabulary index of a raw value, as ColumnSchema::encode_category gives it.
class VocabularyIndex {
 public:
  explicit VocabularyIndex(const ColumnSchema& column) {
    if (column.vocabulary.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      throw Error("column '" + column.name + "' has more than 2^31 categories", "", "lower --max-categories");
    }
    // Only the entries after the two reserved ones are values: a value "<missing>" is not missing.
    for (size_t i = 2; i < column.vocabulary.size(); ++i) index_.emplace(column.vocabulary[i], static_cast<int32_t>(i));
  }
  int32_t operator()(std::string_view value) const {
    if (is_missing(value)) return static_cast<int32_t>(kMissingIndex);
    auto it = index_.find(value);
    return it == index_.end() ? static_cast<int32_t>(kUnknownIndex) : it->second;
  }

 private:
  std::unordered_map<std::string_view, int32_t> index_;  // views of the schema's vocabulary
};

// One output split: its rows occupy staging positions [begin, begin + rows), in SplitOrder's order.
struct SplitPlace {
  std::string name;
  int64_t begin = 0, rows = 0;
};

// The splits one after another in the staging file: train, val, test.
std::vector<SplitPlace> split_places(const RowParts& parts) {
  std::vector<SplitPlace> places;
  int64_t begin = 0;
  for (Part part : {Part::kTrain, Part::kVal, Part::kTest}) {
    places.push_back({part_name(part), begin, parts.rows(part)});
    begin += parts.rows(part);
  }
  return places;
}

// Pass 3: every row staged with its label at its position, while the numeric fits make their second
// pass over the train rows (in file order, as the first).
void stage_rows(TabularPlan& plan, const ConvertOptions& o, const std::vector<SplitPlace>& places,
                const StagedRow& layout, OrderedStaging& staging) {
  std::vector<size_t> numeric_source, categorical_source;
  std::vector<VocabularyIndex> vocabularies;
  for (size_t k = 0; k < plan.schema.columns.size(); ++k) {
    const ColumnSchema& col = plan.schema.columns[k];
    if (col.kind == ColumnKind::kNumeric) {
      numeric_source.push_back(plan.source_column[k]);
    } else {
      categorical_source.push_back(plan.source_column[k]);
      vocabularies.emplace_back(col);
    }
  }
  const Header header{plan.header, plan.target};
  RowParts parts(plan, o);
  std::vector<SplitOrder> orders;
  for (size_t s = 0; s < places.size(); ++s) orders.emplace_back(places[s].rows, o.seed, s);
  int64_t placed[3] = {0, 0, 0};  // rows of each split so far
  std::vector<char> record(static_cast<size_t>(layout.bytes()));
  Rescan rescan(o.input, header, parts.rows());
  while (const auto* fields = rescan.next()) {
    const RowParts::Row row = parts.next((*fields)[header.target]);
    const size_t s = static_cast<size_t>(row.part);
    const bool train = row.part == Part::kTrain;
    const int64_t at = places[s].begin + orders[s].position(placed[s]++);
    layout.set_label(record.data(), row.label);
    for (size_t j = 0; j < numeric_source.size(); ++j) {
      const double value = number_or_nan((*fields)[numeric_source[j]]);
      layout.set_number(record.data(), j, value);
      if (train && !std::isnan(value)) plan.numeric_fits[j].add(value);
    }
    for (size_t k = 0; k < categorical_source.size(); ++k) {
      layout.set_index(record.data(), k, vocabularies[k]((*fields)[categorical_source[k]]));
    }
    staging.put(at, record.data());
  }
  staging.finish_writing();
}

// Ends the numeric fits' second pass and gives the exact medians that need it more passes over the
// staged train rows; then sets every numeric column's median, mean and std.
void finish_numeric_fits(TabularPlan& plan, const StagedRow& layout, int64_t train_rows, OrderedStaging& staging) {
  std::vector<NumericFit>& fits = plan.numeric_fits;
  bool fitted = true;
  for (NumericFit& fit : fits) fitted = fit.end_pass() && fitted;
  while (!fitted) {
    staging.scan(train_rows, [&](const char* record) {
      for (size_t j = 0; j < fits.size(); ++j) {
        const double value = layout.number(record, j);
        if (!fits[j].done() && !std::isnan(value)) fits[j].add(value);
      }
    });
    fitted = true;
    for (NumericFit& fit : fits) fitted = (fit.done() || fit.end_pass()) && fitted;
  }
  for (size_t k = 0, j = 0; k < plan.schema.columns.size(); ++k) {
    if (plan.schema.columns[k].kind == ColumnKind::kNumeric) fits[j++].apply(plan.schema.columns[k]);
  }
}

// Encodes staged rows into a shard's "numeric", "categorical" and "label" rows with the fitted schema.
class RowEncoder {
 public:
  RowEncoder(const TabularSchema& schema, const StagedRow& layout)
      : layout_(layout), numeric_width_(schema.numeric_width()), categorical_width_(schema.categorical_width()) {
    for (const auto& col : schema.columns) (col.kind == ColumnKind::kNumeric ? numeric_ : categorical_).push_back(&col);
  }
  void encode(const char* staged, int64_t count, std::vector<float>& numeric, std::vector<int64_t>& categorical,
              std::vector<int64_t>& labels) const {
    numeric.resize(static_cast<size_t>(count * numeric_width_));
    categorical.resize(static_cast<size_t>(count * categorical_width_));
    labels.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const char* record = staged + i * layout_.bytes();
      labels[static_cast<size_t>(i)] = layout_.label(record);
      float* out = numeric.data() + i * numeric_width_;
      for (size_t j = 0; j < numeric_.size(); ++j) {
        const double value = layout_.number(record, j);
        out[numeric_[j]->position] = numeric_[j]->encode_numeric(value);
        if (numeric_[j]->indicator >= 0) out[numeric_[j]->indicator] = std::isnan(value) ? 1.0f : 0.0f;
      }
      for (size_t k = 0; k < categorical_.size(); ++k) {
        categorical[static_cast<size_t>(i * categorical_width_ + categorical_[k]->position)] = layout_.index(record, k);
      }
    }
  }

 private:
  const StagedRow& layout_;
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
  Scan scan = scan_csv(o);
  const std::vector<ColumnKind> kinds = column_kinds(scan, o);
  TabularPlan plan;
  plan.class_names = std::move(scan.class_names);
  plan.class_counts = std::move(scan.class_counts);
  if (RowParts(plan, o).rows(Part::kTrain) == 0) {
    throw Error("no training rows remain after carving val/test", o.input, "lower --val-fraction/--test-fraction");
  }
  fit_on_train(plan, scan, kinds, o, limits);
  plan.header = std::move(scan.header.names);
  plan.target = scan.header.target;
  return plan;
}

core::Manifest write_tabular(TabularPlan& plan, const ConvertOptions& o, std::vector<std::string>& written,
                             const TabularLimits& limits) {
  const RowParts parts(plan, o);
  const std::vector<SplitPlace> places = split_places(parts);
  const int64_t train_rows = parts.rows(Part::kTrain), rows = parts.rows();
  const StagedRow layout(static_cast<int64_t>(plan.numeric_fits.size()), plan.schema.categorical_width());
  OrderedStaging staging((fs::path(o.output) / kStagingFile).string(), layout.bytes(), rows, limits.chunk_bytes);
  stage_rows(plan, o, places, layout, staging);
  finish_numeric_fits(plan, layout, train_rows, staging);

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

  // Each split's positions in order, gathered from the staging file and encoded in bounded chunks.
  const RowEncoder encoder(schema, layout);
  const int64_t chunk_rows = std::max<int64_t>(1, limits.chunk_bytes / 8 / std::max<int64_t>(1, layout.bytes()));
  std::vector<char> staged;
  std::vector<float> numeric;
  std::vector<int64_t> categorical, labels;
  for (size_t s = 0; s < places.size(); ++s) {
    const SplitPlace& split = places[s];
    if (split.rows == 0) continue;
    const int64_t n = split.rows;
    const int64_t shards = split_shard_count(o, n, train_rows, s == 0);
    core::SplitInfo info{split.name, n, {}};
    std::vector<int64_t> counts(plan.class_names.size(), 0);
    for (int64_t k = 0; k < shards; ++k) {
      const int64_t begin = k * n / shards, end = (k + 1) * n / shards;
      const std::string path = (fs::path(o.output) / shard_file_name(split.name, k, shards)).string();
      written.push_back(path);
      core::ShardWriter writer(path, m.fields, end - begin);
      for (int64_t first = begin; first < end; first += chunk_rows) {
        const int64_t count = std::min(chunk_rows, end - first);
        staged.resize(static_cast<size_t>(count * layout.bytes()));
        staging.read(split.begin + first, count, staged.data());
        encoder.encode(staged.data(), count, numeric, categorical, labels);
        for (int64_t label : labels) ++counts[static_cast<size_t>(label)];
        if (nw > 0) writer.append("numeric", numeric.data(), count);
        if (cw > 0) writer.append("categorical", categorical.data(), count);
        writer.append("label", labels.data(), count);
      }
      info.shards.push_back(writer.finish());
    }
    spdlog::info("{}: {} rows in {} shard(s)", split.name, n, shards);
    m.splits.push_back(info);
    m.extra["class_counts"][split.name] = counts;
  }
  return m;
}

}  // namespace strike::data
