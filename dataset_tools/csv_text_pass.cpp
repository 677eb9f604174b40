// The CSV text pass: the file cut into ranges at newlines, each read on its own thread into a file of binary rows.
#include "dataset_tools/csv_text_pass.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "dataset_tools/csv_reader.h"
#include "dataset_tools/tabular_schema.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

constexpr size_t kIoBytes = size_t{1} << 20;

// Distinct strings, each with the id of its first appearance; a string already held costs no allocation.
class StringIds {
 public:
  uint32_t id(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    strings_.emplace_back(s);
    return ids_.emplace(strings_.back(), static_cast<uint32_t>(strings_.size() - 1)).first->second;
  }
  size_t size() const { return strings_.size(); }
  const std::deque<std::string>& strings() const { return strings_; }  // by id

 private:
  std::deque<std::string> strings_;  // a deque never moves what it holds: the keys below point into it
  std::unordered_map<std::string_view, uint32_t> ids_;
};

// Appends fixed-size rows to a file through a large buffer.
class RowWriter {
 public:
  explicit RowWriter(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (!file_) fail();
    buffer_.reserve(kIoBytes);
  }
  ~RowWriter() {
    if (file_) std::fclose(file_);
  }
  // Room for the next row of `bytes` bytes, to be filled in place.
  char* next(size_t bytes) {
    if (buffer_.size() + bytes > kIoBytes) flush();
    buffer_.resize(buffer_.size() + bytes);
    return buffer_.data() + buffer_.size() - bytes;
  }
  void close() {
    flush();
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0) fail();
  }

 private:
  void flush() {
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) fail();
    buffer_.clear();
  }
  [[noreturn]] void fail() const {
    throw Error("cannot write the conversion's staging file: " + std::string(std::strerror(errno)), path_,
                "it needs about the CSV file's size in the temporary directory: free space there or set TMPDIR");
  }
  std::string path_;
  std::FILE* file_;
  std::vector<char> buffer_;
};

[[noreturn]] void too_many_values(const TextPassOptions& o, size_t column) {
  throw Error("column '" + o.header[column] + "' has more than " + std::to_string(o.max_values) +
                  " distinct values that are not numbers",
              o.path, o.too_many_hint ? o.too_many_hint(o.header[column]) : "");
}

// Bytes of a binary row of a table with `columns` columns: the class id, then a cell per other column.
size_t row_bytes(size_t columns) { return 4 + 8 * (columns - 1); }

// One range of the file and what reading it gave.
struct Range {
  int64_t begin = 0, stop = 0;
  int64_t first_line = 1;  // as given to its reader: 1 for a speculative range
  RowFile file;
  StringIds classes;
  std::vector<int64_t> class_counts;  // by the range's class id
  std::vector<StringIds> values;      // per column
  std::vector<ColumnReport> columns;  // lines as its reader counted them
  int64_t end_offset = 0, end_line = 0;
  std::exception_ptr error;
};

void read_range(const TextPassOptions& o, Range& r, const std::atomic<bool>& cancel) {
  const size_t width = o.header.size();
  r.values.assign(width, StringIds());
  r.columns.assign(width, ColumnReport());
  CsvReader reader(o.path, r.begin, r.stop, r.first_line);
  RowWriter out(r.file.path);
  const size_t bytes = row_bytes(width);
  std::vector<std::string_view> fields;
  while (reader.next(fields)) {
    if (fields.size() != width) {
      throw Error("row has " + std::to_string(fields.size()) + " fields, the header has " + std::to_string(width),
                  reader.where(), "quote fields that contain commas, and double quotes inside quoted fields");
    }
    const std::string_view target = fields[o.target];
    if (is_missing(target)) {
      throw Error("the target column '" + o.header[o.target] + "' is empty", reader.where(),
                  "remove rows without a target value");
    }
    const uint32_t label = r.classes.id(target);
    if (label == r.class_counts.size()) r.class_counts.push_back(0);
    ++r.class_counts[label];
    char* row = out.next(bytes);
    std::memcpy(row, &label, 4);
    char* cells = row + 4;
    for (size_t c = 0; c < width; ++c) {
      if (c == o.target) continue;
      ColumnReport& report = r.columns[c];
      const std::string_view field = fields[c];
      uint64_t bits;
      double number;
      if (o.modes[c] == CellMode::kNumber && parse_number(field, number)) {  // the common case first
        std::memcpy(&bits, &number, 8);
        report.has_number = true;
      } else if (is_missing(field)) {
        bits = cell::kMissing;
        report.has_missing = true;
      } else {
        StringIds& values = r.values[c];
        bits = cell::kTextTag | values.id(field);
        if (!report.has_text) {
          report.has_text = true;
          report.first_text_line = reader.line();
          report.first_text = std::string(field);
        }
        if (static_cast<int64_t>(values.size()) > o.max_values) too_many_values(o, c);
      }
      std::memcpy(cells, &bits, 8);
      cells += 8;
    }
    if ((++r.file.rows & 4095) == 0 && cancel.load(std::memory_order_relaxed)) return;
  }
  out.close();
  r.end_offset = reader.offset();
  r.end_line = reader.next_line();
}

// Reads a range, keeping its error for the caller.
void read_range_noexcept(const TextPassOptions& o, Range& r, const std::atomic<bool>& cancel) {
  try {
    read_range(o, r, cancel);
  } catch (...) {
    r.error = std::current_exception();
  }
}

// Offsets just after the first newline at or after each of `count - 1` even cuts of [begin, end); fewer
// when a cut finds no newline before the end. A newline inside a quoted field is found too: the reader
// of the range before tells (see run_text_pass).
std::vector<int64_t> cut_points(const std::string& path, int64_t begin, int64_t end, int count) {
  std::vector<int64_t> cuts;
  std::ifstream in(path, std::ios::binary);
  std::vector<char> window(64 << 10);
  for (int i = 1; i < count; ++i) {
    int64_t at = std::max(begin + (end - begin) * i / count, cuts.empty() ? begin : cuts.back());
    in.clear();
    in.seekg(at);
    int64_t found = -1;
    while (found < 0 && in.read(window.data(), static_cast<std::streamsize>(window.size())).gcount() > 0) {
      const auto got = static_cast<size_t>(in.gcount());
      const char* nl = static_cast<const char*>(std::memchr(window.data(), '\n', got));
      if (nl) found = at + (nl - window.data()) + 1;
      at += static_cast<int64_t>(got);
    }
    if (found < 0 || found >= end) break;
    cuts.push_back(found);
  }
  return cuts;
}

}  // namespace

int64_t TextPass::rows() const {
  int64_t n = 0;
  for (const auto& f : files) n += f.rows;
  return n;
}

TextPass run_text_pass(const TextPassOptions& o) {
  const int64_t end = static_cast<int64_t>(fs::file_size(o.path));
  const int64_t by_size = (end - o.data_begin) / std::max<int64_t>(1, o.min_range_bytes);
  const int count = static_cast<int>(std::clamp<int64_t>(by_size, 1, std::max(1, o.threads)));
  const std::vector<int64_t> cuts = cut_points(o.path, o.data_begin, end, count);

  std::deque<Range> ranges(cuts.size() + 1);  // a deque: a rerun range is added without moving the others
  for (size_t i = 0; i < ranges.size(); ++i) {
    ranges[i].begin = i == 0 ? o.data_begin : cuts[i - 1];
    ranges[i].stop = i < cuts.size() ? cuts[i] : std::numeric_limits<int64_t>::max();
    ranges[i].first_line = i == 0 ? o.data_line : 1;
    ranges[i].file.path = (fs::path(o.staging_dir) / ("rows-" + std::to_string(i) + ".bin")).string();
  }
  std::atomic<bool> cancel{false};
  {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < ranges.size(); ++i) {
      threads.emplace_back(read_range_noexcept, std::cref(o), std::ref(ranges[i]), std::cref(cancel));
    }
    read_range_noexcept(o, ranges[0], cancel);
    if (ranges[0].error) cancel = true;  // the others' rows are of no use now
    for (auto& t : threads) t.join();
  }

  // Accept ranges while each began where the one before ended; read the rest again, after it.
  std::vector<Range*> accepted{&ranges[0]};
  std::vector<int64_t> line_shift{0};  // per accepted range: add to its reader's line numbers
  const size_t speculative = ranges.size();
  for (size_t i = 1; i < speculative; ++i) {
    const Range& last = *accepted.back();
    if (last.error) std::rethrow_exception(last.error);
    const int64_t last_end_line = last.end_line + line_shift.back();
    if (!ranges[i].error && ranges[i].begin == last.end_offset) {
      accepted.push_back(&ranges[i]);
      line_shift.push_back(last_end_line - 1);
      continue;
    }
    Range& again = ranges.emplace_back();
    again.begin = last.end_offset;
    again.stop = std::numeric_limits<int64_t>::max();
    again.first_line = last_end_line;
    again.file.path = (fs::path(o.staging_dir) / "rows-again.bin").string();
    read_range_noexcept(o, again, cancel);
    accepted.push_back(&again);
    line_shift.push_back(0);
    break;
  }
  if (accepted.back()->error) std::rethrow_exception(accepted.back()->error);
  for (const Range& r : ranges) {  // the files of ranges read again
    if (std::find(accepted.begin(), accepted.end(), &r) == accepted.end()) fs::remove(r.file.path);
  }

  // One dictionary of classes and one per column over the accepted ranges, in file order.
  const size_t width = o.header.size();
  TextPass pass;
  pass.record_bytes = static_cast<int64_t>(row_bytes(width));
  pass.columns.assign(width, ColumnReport());
  StringIds classes;
  std::vector<StringIds> values(width);
  for (size_t a = 0; a < accepted.size(); ++a) {
    Range& r = *accepted[a];
    for (size_t k = 0; k < r.classes.size(); ++k) {
      const uint32_t id = classes.id(r.classes.strings()[k]);
      if (id == pass.class_counts.size()) pass.class_counts.push_back(0);
      pass.class_counts[id] += r.class_counts[k];
      r.file.class_ids.push_back(static_cast<int32_t>(id));
    }
    r.file.value_ids.resize(width);
    for (size_t c = 0; c < width; ++c) {
      for (const std::string& value : r.values[c].strings()) r.file.value_ids[c].push_back(values[c].id(value));
      // Checked on the whole file too, so that how it was cut never decides.
      if (static_cast<int64_t>(values[c].size()) > o.max_values) too_many_values(o, c);
      const ColumnReport& seen = r.columns[c];
      ColumnReport& all = pass.columns[c];
      if (seen.has_text && !all.has_text) {
        all.first_text_line = seen.first_text_line + line_shift[a];
        all.first_text = seen.first_text;
      }
      all.has_number |= seen.has_number;
      all.has_text |= seen.has_text;
      all.has_missing |= seen.has_missing;
    }
    pass.files.push_back(std::move(r.file));
  }
  pass.classes.assign(classes.strings().begin(), classes.strings().end());
  pass.values.resize(width);
  for (size_t c = 0; c < width; ++c) pass.values[c].assign(values[c].strings().begin(), values[c].strings().end());
  return pass;
}

RowFileReader::RowFileReader(const std::string& path, int64_t record_bytes)
    : path_(path), file_(std::fopen(path.c_str(), "rb")), record_bytes_(record_bytes) {
  if (!file_) throw Error("cannot read the conversion's staging file", path, "check the temporary directory (TMPDIR)");
  buffer_.resize(std::max<size_t>(kIoBytes / static_cast<size_t>(record_bytes) * static_cast<size_t>(record_bytes),
                                  static_cast<size_t>(record_bytes)));
}

RowFileReader::~RowFileReader() { std::fclose(file_); }

const char* RowFileReader::next() {
  if (pos_ == size_) {
    size_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    pos_ = 0;
    if (size_ == 0) {
      if (std::ferror(file_)) throw Error("cannot read the conversion's staging file", path_, "check the disk");
      return nullptr;
    }
    if (size_ % static_cast<size_t>(record_bytes_) != 0) {
      throw Error("the conversion's staging file was cut short", path_, "check free space in the temporary directory");
    }
  }
  const char* row = buffer_.data() + pos_;
  pos_ += static_cast<size_t>(record_bytes_);
  return row;
}

}  // namespace strike::data
