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
  // Reads the records that start in [begin, stop) of the file; `begin` must be where a record (or a
  // blank line) starts, and `first_line` is its line number. A record that starts before `stop` is read
  // whole, wherever it ends: cutting a file into ranges at newlines gives the same records as one
  // reader, as long as no cut falls inside a quoted field (offset() tells, see there).
  CsvReader(const std::string& path, int64_t begin, int64_t stop, int64_t first_line);
  // Reads the next record into `fields`; false at the end of the file. Throws Error naming
  // file:line for an unterminated quote or text after a closing quote. The views point into the
  // reader's buffer: they stay valid until the next call.
  bool next(std::vector<std::string_view>& fields);
  // The same, copied into strings the caller owns.
  bool next(std::vector<std::string>& fields);
  int64_t line() const { return record_line_; }  // the line the last record started on (1-based)
  // Where the unread data starts: after the end of the file, or before a record that starts at or after
  // `stop`. A reader of the next range saw the same records exactly when this is that range's begin.
  int64_t offset() const { return base_ + static_cast<int64_t>(pos_); }
  int64_t next_line() const { return line_; }  // the line of offset()
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
  int64_t base_ = 0;           // the file offset of buffer_[0]
  int64_t stop_;               // no record that starts here or later is read
  size_t pos_ = 0, size_ = 0;  // the unread data is buffer_[pos_, size_)
  bool at_end_ = false;        // the whole file has been read into the buffer
  int64_t line_ = 1, record_line_ = 0;
  std::vector<size_t> escaped_;        // fields of the record being parsed that hold "" pairs
  std::vector<std::string_view> views_;  // next(std::vector<std::string>&)'s record
};

}  // namespace strike::data
