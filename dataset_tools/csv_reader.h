// CsvReader: RFC 4180 records of a CSV file, one at a time, split in place in a large read buffer.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace strike::data {

// Reads one record at a time: quoted fields, "" inside quotes, commas and newlines inside quotes,
// LF or CRLF line ends, a UTF-8 byte order mark; blank lines are skipped.
class CsvReader {
 public:
  explicit CsvReader(const std::string& path);  // throws Error when the file cannot be opened
  // Reads the next record into `fields`; false at the end of the file. Throws Error naming
  // file:line for an unterminated quote or text after a closing quote. The views point into the
  // reader's buffer: they stay valid until the next call.
  bool next(std::vector<std::string_view>& fields);
  // The same, copied into strings the caller owns.
  bool next(std::vector<std::string>& fields);
  int64_t line() const { return record_line_; }  // the line the last record started on (1-based)
  std::string where() const { return path_ + ":" + std::to_string(record_line_); }  // "file:line"

 private:
  enum class Parsed { kRecord, kEnd, kNeedMore };
  // Splits the record at the start of the unread data, or says that it runs past the data read so far.
  Parsed parse(std::vector<std::string_view>& fields);
  // Moves the unread data to the front of the buffer (growing it when one record fills it) and reads more.
  void fill();

  std::string path_;
  std::ifstream in_;
  std::vector<char> buffer_;
  size_t pos_ = 0, size_ = 0;  // the unread data is buffer_[pos_, size_)
  bool at_end_ = false;        // the whole file has been read into the buffer
  int64_t line_ = 1, record_line_ = 0;
  std::vector<size_t> escaped_;        // fields of the record being parsed that hold "" pairs
  std::vector<std::string_view> views_;  // next(std::vector<std::string>&)'s record
};

}  // namespace strike::data
