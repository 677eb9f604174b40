// CSV files (RFC 4180) read as a stream, and their conversion into a tabular classification dataset.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/split.h"
#include "dataset_tools/tabular_schema.h"

namespace strike::data {

// Reads one record at a time: quoted fields, "" inside quotes, commas and newlines inside quotes,
// LF or CRLF line ends, a UTF-8 byte order mark; blank lines are skipped.
class CsvReader {
 public:
  explicit CsvReader(const std::string& path);  // throws Error when the file cannot be opened
  // Reads the next record into `fields`; false at the end of the file. Throws Error naming
  // file:line for an unterminated quote or text after a closing quote.
  bool next(std::vector<std::string>& fields);
  int64_t line() const { return record_line_; }  // the line the last record started on (1-based)
  std::string where() const { return path_ + ":" + std::to_string(record_line_); }  // "file:line"

 private:
  int get();

  std::string path_;
  std::ifstream in_;
  std::vector<char> buffer_;
  size_t pos_ = 0, size_ = 0;
  int64_t line_ = 1, record_line_ = 0;
};

// A CSV file read, split and encoded with the schema fitted on its train split; every check that
// can fail on the input has run once this exists, so writing it only fails on the output side.
struct TabularData {
  TabularSchema schema;
  std::vector<std::string> class_names;  // the target's sorted distinct values
  std::vector<int64_t> labels;           // per data row, in file order
  SplitIndices split;                    // data-row indices of train/val/test
  std::vector<float> numeric;            // rows x schema.numeric_width()
  std::vector<int64_t> categorical;      // rows x schema.categorical_width()
};

// True when `kind` is "csv", or "auto" and `input` is a regular file named *.csv.
bool is_csv_input(const std::string& kind, const std::string& input);

// Reads options.input twice (schema inference, then values), so memory holds the encoded rows
// but never the text. Throws Error naming file:line for malformed rows and unusable columns.
TabularData read_tabular_csv(const ConvertOptions& options);

// Writes the shards of every non-empty split into options.output (paths appended to `written`
// as they are created) and returns the manifest; the caller saves it.
core::Manifest write_tabular(const TabularData& data, const ConvertOptions& options, std::vector<std::string>& written);

}  // namespace strike::data
