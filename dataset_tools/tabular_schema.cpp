// Missing-value rules, number parsing and the fitting of tabular columns.
#include "dataset_tools/tabular_schema.h"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <system_error>

#include "core/error.h"
#include "dataset_tools/numeric_fit.h"

namespace strike::data {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

// Plain loops: find_first_not_of(" \t") searches the set with a call per character, a tenth of a CSV conversion.
std::string_view trim(std::string_view s) {
  size_t first = 0, end = s.size();
  while (first < end && blank(s[first])) ++first;
  while (end > first && blank(s[end - 1])) --end;
  return s.substr(first, end - first);
}

}  // namespace

bool is_missing(std::string_view field) {
  const std::string_view t = trim(field);
  return t.empty() || t == "NA";
}

bool parse_number(std::string_view field, double& out) {
  std::string_view t = trim(field);
  // Text is common in a column not yet known to be categorical: a number starts with a digit, a point
  // or a sign ("inf" and "nan", which fast_float reads, are refused below anyway).
  if (t.empty() || !((t.front() >= '0' && t.front() <= '9') || t.front() == '.' || t.front() == '-' || t.front() == '+')) {
    return false;
  }
  // fast_float parses as from_chars does (no locale, no copy, correctly rounded), at a third of
  // libstdc++'s time: it was the largest single cost of a CSV conversion. Like from_chars it takes no
  // leading '+', which strtod did: keep accepting "+1.5".
  if (!t.empty() && t.front() == '+') {
    t.remove_prefix(1);
    if (t.empty() || t.front() == '+' || t.front() == '-') return false;
  }
  double value = 0;
  const auto [end, error] = fast_float::from_chars(t.data(), t.data() + t.size(), value);
  if (end != t.data() + t.size() || error != std::errc()) return false;
  // Overflow gives an infinity, no usable number; underflow a tiny value or zero, which is. "inf" and
  // "nan" are text.
  if (!std::isfinite(value)) return false;
  out = value;
  return true;
}

const char* kind_name(ColumnKind kind) { return kind == ColumnKind::kNumeric ? "numeric" : "categorical"; }

float ColumnSchema::encode_numeric(double value) const {
  if (std::isnan(value)) value = median;
  return static_cast<float>((value - mean) / std);
}

int64_t ColumnSchema::encode_category(const std::string& value) const {
  if (is_missing(value)) return kMissingIndex;
  // Entries after the two reserved ones are sorted, so a binary search finds a value.
  auto begin = vocabulary.begin() + std::min<size_t>(2, vocabulary.size());
  auto it = std::lower_bound(begin, vocabulary.end(), value);
  return it != vocabulary.end() && *it == value ? static_cast<int64_t>(it - vocabulary.begin()) : kUnknownIndex;
}

int64_t TabularSchema::numeric_width() const {
  int64_t n = 0;
  for (const auto& c : columns) n += c.kind == ColumnKind::kNumeric ? (c.indicator >= 0 ? 2 : 1) : 0;
  return n;
}

int64_t TabularSchema::categorical_width() const {
  int64_t n = 0;
  for (const auto& c : columns) n += c.kind == ColumnKind::kCategorical ? 1 : 0;
  return n;
}

nlohmann::json TabularSchema::to_json() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : columns) {
    nlohmann::json j = {{"name", c.name}, {"kind", kind_name(c.kind)}, {"position", c.position}};
    if (c.kind == ColumnKind::kNumeric) {
      j.update({{"median", c.median}, {"mean", c.mean}, {"std", c.std}, {"has_missing", c.has_missing},
                {"indicator", c.indicator}});
    } else {
      j["vocabulary"] = c.vocabulary;
    }
    cols.push_back(j);
  }
  return {{"target", target}, {"columns", cols}};
}

TabularSchema TabularSchema::from_json(const nlohmann::json& j) {
  TabularSchema s;
  try {
    s.target = j.at("target").get<std::string>();
    for (const auto& cj : j.at("columns")) {
      ColumnSchema c;
      c.name = cj.at("name").get<std::string>();
      const std::string kind = cj.at("kind").get<std::string>();
      if (kind != "numeric" && kind != "categorical") throw Error("column '" + c.name + "' has unknown kind '" + kind + "'");
      c.kind = kind == "numeric" ? ColumnKind::kNumeric : ColumnKind::kCategorical;
      c.position = cj.at("position").get<int64_t>();
      if (c.kind == ColumnKind::kNumeric) {
        c.median = cj.at("median").get<double>();
        c.mean = cj.at("mean").get<double>();
        c.std = cj.at("std").get<double>();
        c.has_missing = cj.at("has_missing").get<bool>();
        c.indicator = cj.at("indicator").get<int64_t>();
      } else {
        c.vocabulary = cj.at("vocabulary").get<std::vector<std::string>>();
      }
      s.columns.push_back(std::move(c));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("malformed tabular schema: ") + e.what(), "manifest.json", "re-convert the dataset");
  }
  return s;
}

ColumnSchema fit_numeric(const std::string& name, std::vector<double> values, bool has_missing) {
  ColumnSchema c;
  c.name = name;
  c.kind = ColumnKind::kNumeric;
  c.has_missing = has_missing;
  if (values.empty()) return c;  // no train value at all: every value becomes 0 after the fill
  BlockMoments moments;  // the sums NumericFit makes as the values stream past, so both round alike
  for (double v : values) moments.add(v);
  moments.finish();
  const size_t n = values.size();
  c.mean = moments.mean();
  c.std = std::sqrt(moments.squares() / static_cast<double>(n));  // population std, like the image statistics
  if (!(c.std > 0)) c.std = 1;  // a constant column stays constant instead of dividing by zero
  // The median needs only a partial order.
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(values.begin(), middle, values.end());
  c.median = *middle;
  if (n % 2 == 0) c.median = (*std::max_element(values.begin(), middle) + c.median) / 2;
  // Which signed zero nth_element lands on depends on the values' order: a zero median is always +0.
  if (c.median == 0) c.median = 0.0;
  return c;
}

ColumnSchema fit_categorical(const std::string& name, std::vector<std::string> values) {
  ColumnSchema c;
  c.name = name;
  c.kind = ColumnKind::kCategorical;
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  c.vocabulary = {kUnknownCategory, kMissingCategory};
  c.vocabulary.insert(c.vocabulary.end(), values.begin(), values.end());
  return c;
}

}  // namespace strike::data
