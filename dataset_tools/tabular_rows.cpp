// encode_csv_rows: header matching against the schema, then per-row encoding with its fitted values.
#include "dataset_tools/tabular_rows.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/error.h"
#include "dataset_tools/csv_reader.h"

namespace strike::data {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// Source column of every schema column, and of the target (-1 when absent).
struct Layout {
  std::vector<size_t> column_of;
  int64_t target = -1;
  size_t fields = 0;
};

Layout match_header(const TabularSchema& schema, const std::vector<std::string>& header, const std::string& where) {
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < header.size(); ++i) {
    if (!position.emplace(header[i], i).second) throw Error("column '" + header[i] + "' appears twice", where);
  }
  Layout layout;
  layout.fields = header.size();
  std::vector<std::string> missing;
  for (const auto& column : schema.columns) {
    auto it = position.find(column.name);
    if (it == position.end()) {
      missing.push_back(column.name);
      continue;
    }
    layout.column_of.push_back(it->second);
    position.erase(it);
  }
  if (auto it = position.find(schema.target); it != position.end()) {
    layout.target = static_cast<int64_t>(it->second);
    position.erase(it);
  }
  if (!missing.empty()) {
    throw Error("the CSV lacks column(s) " + joined(missing) + " that the model was trained on", where,
                "give every training column (the target '" + schema.target + "' may be left out)");
  }
  if (!position.empty()) {
    std::vector<std::string> extra;
    for (const auto& [name, index] : position) extra.push_back(name);
    throw Error("the CSV has column(s) " + joined(extra) + " that the model was not trained on", where,
                "drop them: the model's columns are the training CSV's, whose order may differ");
  }
  return layout;
}

}  // namespace

EncodedRows encode_csv_rows(const TabularSchema& schema, const std::vector<std::string>& class_names,
                            const std::string& path) {
  CsvReader reader(path);
  std::vector<std::string> fields;
  if (!reader.next(fields)) throw Error("the CSV file is empty (no header)", path, "the first line names the columns");
  const Layout layout = match_header(schema, fields, reader.where());
  const int64_t nw = schema.numeric_width(), cw = schema.categorical_width();
  EncodedRows out;
  int64_t unknown_labels = 0;
  std::string first_unknown_label;
  while (reader.next(fields)) {
    if (fields.size() != layout.fields) {
      throw Error("row has " + std::to_string(fields.size()) + " fields, the header has " + std::to_string(layout.fields),
                  reader.where(), "quote fields that contain commas, and double quotes inside quoted fields");
    }
    out.ids.push_back(reader.where());
    out.numeric.resize(out.numeric.size() + nw);
    out.categorical.resize(out.categorical.size() + cw);
    float* numeric = out.numeric.data() + out.numeric.size() - nw;
    int64_t* categorical = out.categorical.data() + out.categorical.size() - cw;
    for (size_t k = 0; k < schema.columns.size(); ++k) {
      const ColumnSchema& column = schema.columns[k];
      const std::string& value = fields[layout.column_of[k]];
      if (column.kind == ColumnKind::kCategorical) {
        categorical[column.position] = column.encode_category(value);
        if (categorical[column.position] == kUnknownIndex) ++out.unseen_values;
        continue;
      }
      double number = std::numeric_limits<double>::quiet_NaN();
      if (!is_missing(value) && !parse_number(value, number)) {
        throw Error("column '" + column.name + "' is numeric but holds '" + value + "'", reader.where(),
                    "fix the value (missing values are empty or NA)");
      }
      numeric[column.position] = column.encode_numeric(number);
      if (column.indicator >= 0) numeric[column.indicator] = std::isnan(number) ? 1.0f : 0.0f;
    }
    if (layout.target >= 0) {
      const std::string& label = fields[static_cast<size_t>(layout.target)];
      auto it = std::find(class_names.begin(), class_names.end(), label);
      if (it == class_names.end() && unknown_labels++ == 0) first_unknown_label = reader.where() + " ('" + label + "')";
      out.labels.push_back(it - class_names.begin());
    }
  }
  if (out.ids.empty()) throw Error("the CSV file has a header but no rows", path, "add data rows");
  if (unknown_labels > 0) {
    throw Error(std::to_string(unknown_labels) + " row(s) have a '" + schema.target +
                    "' value that was not a training class, first at " + first_unknown_label,
                path, "the model knows " + joined(class_names) + "; drop the target column to predict anyway");
  }
  return out;
}

}  // namespace strike::data
