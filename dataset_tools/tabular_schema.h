// The schema of a tabular dataset: column kinds and the encoding fitted on the train split.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strike::data {

constexpr const char* kUnknownCategory = "<unknown>";  // vocabulary index 0: a value not seen in train
constexpr const char* kMissingCategory = "<missing>";  // vocabulary index 1: an empty field or "NA"
constexpr int64_t kUnknownIndex = 0;
constexpr int64_t kMissingIndex = 1;

// True for an empty (or all-blank) field and for "NA": the values a CSV conversion treats as missing.
bool is_missing(std::string_view field);
// Parses a finite number, blanks around it allowed; false for anything else (text, inf, nan).
bool parse_number(std::string_view field, double& out);

enum class ColumnKind { kNumeric, kCategorical };
const char* kind_name(ColumnKind kind);  // "numeric", "categorical"

struct ColumnSchema {
  std::string name;                       // the CSV header's name
  ColumnKind kind = ColumnKind::kNumeric;
  int64_t position = 0;                   // index in the "numeric" or "categorical" shard field
  // Numeric columns: a missing value becomes `median`, then every value (x - mean) / std.
  double median = 0, mean = 0, std = 1;   // of the train split's non-missing values; std 0 is stored as 1
  bool has_missing = false;               // any split has a missing value: the column gets an indicator
  int64_t indicator = -1;                 // index of the 0/1 missing indicator in "numeric", -1 without one
  // Categorical columns: [<unknown>, <missing>, the train split's distinct values in byte order].
  std::vector<std::string> vocabulary;

  // The standardized value of a numeric column; NaN stands for missing.
  float encode_numeric(double value) const;
  // The vocabulary index of a categorical value: kMissingIndex when missing, kUnknownIndex when unseen.
  int64_t encode_category(const std::string& value) const;
};

struct TabularSchema {
  std::string target;                 // the class column (not among `columns`)
  std::vector<ColumnSchema> columns;  // the feature columns in CSV order

  int64_t numeric_width() const;      // numeric columns plus missing indicators
  int64_t categorical_width() const;  // categorical columns
  nlohmann::json to_json() const;
  static TabularSchema from_json(const nlohmann::json& j);
};

// Fits a numeric column on its train values (missing ones left out), in memory. The converter streams
// the same fit with NumericFit (numeric_fit.h), which tests hold bit for bit equal to this.
ColumnSchema fit_numeric(const std::string& name, std::vector<double> train_values, bool has_missing);
// Builds a categorical column's vocabulary from its distinct non-missing train values.
ColumnSchema fit_categorical(const std::string& name, std::vector<std::string> train_values);

}  // namespace strike::data
