// CSV record splitting over a read buffer: fields are views into it, "" pairs are undone in place.
#include "dataset_tools/csv_reader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"

namespace strike::data {

namespace {

constexpr size_t kReadBytes = size_t{1} << 20;

// The first byte of text[i, end) that ends an unquoted field (',', '\n' or '\r'), or end. Eight bytes
// at a time where it can: fields are short, so a byte loop was most of a CSV conversion's parsing.
size_t field_end(const char* text, size_t i, size_t end) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  // High bit of each byte equal to `byte`; exact up to the first such byte (a borrow only runs upwards).
  auto equal = [](uint64_t word, char byte) {
    const uint64_t x = word ^ (kOnes * static_cast<unsigned char>(byte));
    return (x - kOnes) & ~x & kHighs;
  };
  for (; i + 8 <= end; i += 8) {
    uint64_t word;
    std::memcpy(&word, text + i, 8);
    const uint64_t hits = equal(word, ',') | equal(word, '\n') | equal(word, '\r');
    if (hits) return i + static_cast<size_t>(__builtin_ctzll(hits)) / 8;
  }
#endif
  while (i < end && text[i] != ',' && text[i] != '\n' && text[i] != '\r') ++i;
  return i;
}

// Turns each "" of a quoted field's content into one quote; the content only shrinks, so in place.
size_t undo_quote_pairs(char* text, size_t size) {
  size_t out = 0;
  for (size_t in = 0; in < size; ++in) {
    text[out++] = text[in];
    if (text[in] == '"') ++in;  // every quote inside the content is the first of a pair
  }
  return out;
}

}  // namespace

CsvReader::CsvReader(const std::string& path) : CsvReader(path, 0, std::numeric_limits<int64_t>::max(), 1) {}

CsvReader::CsvReader(const std::string& path, int64_t begin, int64_t stop, int64_t first_line)
    : path_(path), in_(path, std::ios::binary), buffer_(kReadBytes), base_(begin), stop_(stop), line_(first_line) {
  if (!in_ || std::filesystem::is_directory(path)) throw Error("cannot open the CSV file", path, "check the --input path");
  if (begin > 0 && !in_.seekg(begin)) throw Error("cannot read the CSV file", path, "check the disk and the file's permissions");
  fill();
  // A byte order mark, skipped.
  if (begin == 0 && size_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
}

void CsvReader::fill() {
  const size_t unread = size_ - pos_;
  std::memmove(buffer_.data(), buffer_.data() + pos_, unread);
  base_ += static_cast<int64_t>(pos_);
  pos_ = 0;
  size_ = unread;
  if (size_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // one record longer than the buffer
  in_.read(buffer_.data() + size_, static_cast<std::streamsize>(buffer_.size() - size_));
  const size_t got = static_cast<size_t>(in_.gcount());
  if (in_.bad()) throw Error("cannot read the CSV file", path_, "check the disk and the file's permissions");
  size_ += got;
  at_end_ = got == 0 || in_.eof();
}

bool CsvReader::next(std::vector<std::string_view>& fields) {
  while (true) {
    const Parsed parsed = parse(fields);
    if (parsed != Parsed::kNeedMore) return parsed == Parsed::kRecord;
    fill();
  }
}

bool CsvReader::next(std::vector<std::string>& fields) {
  if (!next(views_)) {
    fields.clear();
    return false;
  }
  fields.resize(views_.size());
  for (size_t i = 0; i < views_.size(); ++i) fields[i].assign(views_[i].data(), views_[i].size());
  return true;
}

// Nothing before the record's end is changed or committed (line_, pos_) until the whole record is in
// the buffer, so kNeedMore can start the record over once more data is read.
CsvReader::Parsed CsvReader::parse(std::vector<std::string_view>& fields) {
  char* const b = buffer_.data();
  const size_t end = size_;
  size_t i = pos_;
  if (offset() >= stop_) {  // the next range's reader starts here
    fields.clear();
    return Parsed::kEnd;
  }
  while (i < end && (b[i] == '\r' || b[i] == '\n')) {  // blank lines: committed at once, skipping them is final
    if (b[i] == '\n') ++line_;
    ++i;
  }
  pos_ = i;
  if (offset() >= stop_) {
    fields.clear();
    return Parsed::kEnd;
  }
  if (i == end) {
    if (!at_end_) return Parsed::kNeedMore;
    fields.clear();
    return Parsed::kEnd;
  }
  record_line_ = line_;
  escaped_.clear();
  int64_t lines = 0;   // newlines inside the record so far
  size_t count = 0;    // fields so far: `fields` keeps its size from record to record, so no reallocation
  auto add = [&](const char* text, size_t size) {
    if (count < fields.size()) {
      fields[count] = std::string_view(text, size);
    } else {
      fields.emplace_back(text, size);
    }
    ++count;
  };
  auto finish = [&](size_t next) {
    fields.resize(count);
    for (size_t f : escaped_) {
      char* text = const_cast<char*>(fields[f].data());
      fields[f] = std::string_view(text, undo_quote_pairs(text, fields[f].size()));
    }
    line_ += lines;
    pos_ = next;
    return Parsed::kRecord;
  };
  while (true) {  // one field per turn; i is its first character
    if (i < end && b[i] == '"') {
      const int64_t open_line = line_ + lines;
      const size_t content = ++i;
      bool pairs = false;
      while (true) {  // i: the next character of the content
        const char* quote = static_cast<const char*>(std::memchr(b + i, '"', end - i));
        if (!quote) {
          if (!at_end_) return Parsed::kNeedMore;
          throw Error("a quoted field is never closed", path_ + ":" + std::to_string(open_line),
                      "close the quote; a quote inside a quoted field is written \"\"");
        }
        lines += std::count(static_cast<const char*>(b + i), quote, '\n');
        i = static_cast<size_t>(quote - b) + 1;
        if (i == end && !at_end_) return Parsed::kNeedMore;  // a pair or the closing quote: the next byte says
        if (i == end || b[i] != '"') break;  // the closing quote
        pairs = true;
        ++i;
      }
      if (pairs) escaped_.push_back(count);
      add(b + content, i - 1 - content);
      if (i == end) return finish(i);
      if (b[i] == '\r') {
        if (i + 1 == end && !at_end_) return Parsed::kNeedMore;
        if (i + 1 == end || b[i + 1] != '\n') throw Error("text after a closing quote", where(), "quote the whole field");
        ++i;
      }
      if (b[i] == ',') {
        ++i;
        continue;
      }
      if (b[i] == '\n') {
        ++lines;
        return finish(i + 1);
      }
      throw Error("text after a closing quote", where(), "quote the whole field; write a quote inside it as \"\"");
    }
    // Unquoted: up to a comma or a line end; a CR that does not start CRLF belongs to the field.
    const size_t start = i;
    while (true) {
      i = field_end(b, i, end);
      if (i == end) {
        if (!at_end_) return Parsed::kNeedMore;
        add(b + start, i - start);
        return finish(i);
      }
      if (b[i] != '\r') break;
      if (i + 1 == end && !at_end_) return Parsed::kNeedMore;
      if (i + 1 < end && b[i + 1] == '\n') break;
      ++i;  // a lone CR
    }
    add(b + start, i - start);
    if (b[i] == ',') {
      ++i;
      continue;
    }
    ++lines;
    return finish(b[i] == '\r' ? i + 2 : i + 1);
  }
}

}  // namespace strike::data
