// CsvReader over its read buffer: records cut at the buffer's end, and records longer than the buffer.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dataset_tools/csv_reader.h"
#include "test_util.h"

namespace strike {
namespace {

// Records around the reader's 1 MiB buffer boundaries, one longer than the buffer, quotes, CRLF.
TEST(CsvReader, RecordsAcrossBufferBoundaries) {
  test::TempDir dir;
  std::mt19937_64 rng(11);
  std::string text;
  std::vector<std::vector<std::string>> expected;
  std::vector<int64_t> lines;
  int64_t line = 1;
  while (text.size() < (size_t{5} << 19)) {
    if (rng() % 50 == 0) {
      text += rng() % 2 ? "\n" : "\r\n";  // a blank line
      ++line;
    }
    std::vector<std::string> record;
    std::string raw;
    const int64_t start = line;
    const int fields = 1 + static_cast<int>(rng() % 6);
    for (int f = 0; f < fields; ++f) {
      std::string value;
      const int kind = static_cast<int>(rng() % 5);
      const size_t size = expected.size() == 3000 && f == 0 ? (size_t{3} << 19) : rng() % 12;  // once: 1.5 MiB
      for (size_t i = 0; i < size; ++i) value += "abc \t1.5-"[rng() % 9];
      if (kind == 0) {
        value += "x\"y";  // a quote inside an unquoted field is text
      } else if (kind == 1) {
        value += "a,b\n\"c\"\r\nd";  // quoted: comma, newlines, quotes
      } else if (kind == 2) {
        value += "lone\rcr";
      }
      std::string field = value;
      if (kind == 1) {
        field = "\"";
        for (char c : value) field += c == '"' ? std::string("\"\"") : std::string(1, c);
        field += "\"";
        line += 2;
      }
      if (fields == 1 && field.empty()) field = value = "v";  // an empty record would be a blank line
      raw += (f ? "," : "") + field;
      record.push_back(value);
    }
    text += raw + (rng() % 3 ? "\n" : "\r\n");
    ++line;
    expected.push_back(record);
    lines.push_back(start);
  }
  text += "last,\"\"";  // no line end after the last record
  expected.push_back({"last", ""});
  lines.push_back(line);
  std::ofstream(dir / "big.csv", std::ios::binary) << text;

  data::CsvReader reader(dir / "big.csv");
  std::vector<std::string> fields;
  for (size_t r = 0; r < expected.size(); ++r) {
    ASSERT_TRUE(reader.next(fields)) << "record " << r;
    ASSERT_EQ(fields, expected[r]) << "record " << r;
    ASSERT_EQ(reader.line(), lines[r]) << "record " << r;
  }
  EXPECT_FALSE(reader.next(fields));
}

// The reader's first read takes 1 MiB: a padding line puts every cut of a tricky stretch at its end.
TEST(CsvReader, EveryCutAtTheBufferEnd) {
  test::TempDir dir;
  const std::string tricky = "\"a\"\"b\",x\r\ny\r,\"c\r\n\"\"\",z\r\n\"q\"\nw,\"e\"";
  const std::vector<std::vector<std::string>> expected = {
      {"a\"b", "x"}, {"y\r", "c\r\n\"", "z"}, {"q"}, {"w", "e"}};
  const std::vector<int64_t> lines = {2, 3, 5, 6};
  const size_t buffer = size_t{1} << 20;
  for (size_t cut = 0; cut <= tricky.size(); ++cut) {
    std::ofstream(dir / "cut.csv", std::ios::binary | std::ios::trunc) << std::string(buffer - cut - 1, 'p') + "\n" + tricky;
    data::CsvReader reader(dir / "cut.csv");
    std::vector<std::string> fields;
    ASSERT_TRUE(reader.next(fields));
    ASSERT_EQ(fields.size(), 1u);
    for (size_t r = 0; r < expected.size(); ++r) {
      ASSERT_TRUE(reader.next(fields)) << "cut " << cut << ", record " << r;
      EXPECT_EQ(fields, expected[r]) << "cut " << cut << ", record " << r;
      EXPECT_EQ(reader.line(), lines[r]) << "cut " << cut << ", record " << r;
    }
    EXPECT_FALSE(reader.next(fields)) << "cut " << cut;
  }
}

}  // namespace
}  // namespace strike
