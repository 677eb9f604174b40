// The one pass over a CSV file's text: every data row checked and turned into a fixed-size binary row, on several threads.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace strike::data {

// A feature field of a binary row, 8 bytes: a finite number as its double's bits, or a NaN that says
// missing or carries the id of a text value in its column's dictionary (parse_number never gives NaN).
namespace cell {
constexpr uint64_t kMissing = 0x7ff8000000000000ull;
constexpr uint64_t kTextTag = 0xfff8000000000000ull;  // | the text value's id
inline bool is_text(uint64_t bits) { return (bits & 0xffffffff00000000ull) == kTextTag; }
inline uint32_t text_id(uint64_t bits) { return static_cast<uint32_t>(bits); }
}  // namespace cell

// kNumber: a field that parses as a number is kept as one, any other is text; kText: every field is text.
enum class CellMode { kNumber, kText };

struct TextPassOptions {
  std::string path;
  std::vector<std::string> header;  // column names
  size_t target = 0;                // the class column
  std::vector<CellMode> modes;      // per column (the target's is not used)
  int64_t data_begin = 0;           // the file offset of the first data row, after the header
  int64_t data_line = 2;            // its line
  int64_t max_values = 1024;        // distinct text values a column may have (a bound on memory)
  std::function<std::string(const std::string& column)> too_many_hint;  // what to do when a column has more
  int threads = 1;                  // the file is cut into at most this many ranges, read side by side
  int64_t min_range_bytes = int64_t{8} << 20;  // but none shorter than this
  std::string staging_dir;          // where the binary rows are written
};

// What the pass saw in one column.
struct ColumnReport {
  bool has_number = false, has_text = false, has_missing = false;
  int64_t first_text_line = 0;  // the line and value of the first text value
  std::string first_text;
};

// The binary rows of one range of the file, in file order: each an int32 class id, then one cell per
// column other than the target, in header order. Ids are the range's own; the maps make them global.
struct RowFile {
  std::string path;
  int64_t rows = 0;
  std::vector<int32_t> class_ids;               // range class id -> TextPass::classes index
  std::vector<std::vector<uint32_t>> value_ids;  // per column: range text id -> TextPass::values index
};

struct TextPass {
  int64_t record_bytes = 0;                      // 4 + 8 * (columns - 1)
  std::vector<std::string> classes;              // the target's values, by first appearance
  std::vector<int64_t> class_counts;             // rows per class, as above
  std::vector<ColumnReport> columns;             // per column
  std::vector<std::vector<std::string>> values;  // per column: its distinct text values, by first appearance
  std::vector<RowFile> files;                    // the whole file's rows, in order
  int64_t rows() const;
};

// Reads every data row once. Ranges after the first are read speculatively from the first newline after
// their cut; a range whose reader did not end exactly where the next one began (a cut inside a quoted
// field), or that failed, is read again on this thread after the one before it, so the rows, the errors
// and their line numbers are those of one reader over the whole file. Throws Error naming file:line for
// a malformed row, and naming the column when it has more than max_values distinct text values.
TextPass run_text_pass(const TextPassOptions& options);

// Reads a RowFile's rows in order.
class RowFileReader {
 public:
  RowFileReader(const std::string& path, int64_t record_bytes);
  ~RowFileReader();
  RowFileReader(const RowFileReader&) = delete;
  RowFileReader& operator=(const RowFileReader&) = delete;
  const char* next();  // the next row, or nullptr after the last

 private:
  std::string path_;
  std::FILE* file_;
  int64_t record_bytes_;
  std::vector<char> buffer_;
  size_t pos_ = 0, size_ = 0;
};

}  // namespace strike::data
