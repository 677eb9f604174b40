// CRC-32 helpers: the standard check value, memory, text and file checksums agreeing, file progress.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "core/checksum.h"

namespace strike::core {
namespace {

TEST(Checksum, StandardCheckValue) {
  const std::string text = "123456789";
  EXPECT_EQ(crc32_of(text.data(), text.size()), 0xCBF43926u);
  EXPECT_EQ(text_checksum(text), "crc32:cbf43926");
}

TEST(Checksum, MemoryAndTextAgreeAndSeeEveryByte) {
  std::vector<char> bytes(3 << 20, 'x');
  const std::string text(bytes.begin(), bytes.end());
  const uint32_t crc = crc32_of(bytes.data(), bytes.size());
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc);
  EXPECT_EQ(text_checksum(text), std::string("crc32:") + hex);
  bytes.back() = 'y';
  EXPECT_NE(crc32_of(bytes.data(), bytes.size()), crc);
  EXPECT_EQ(crc32_of(nullptr, 0), 0u);
}

TEST(Checksum, FileChecksumReportsItsProgressBlockByBlock) {
  const std::string path = ::testing::TempDir() + "/strike-checksum-progress.bin";
  std::string text(9 << 20, 'x');  // two whole 4 MiB blocks and a part
  text[5 << 20] = 'y';
  std::ofstream(path, std::ios::binary) << text;
  std::vector<int64_t> seen;
  EXPECT_EQ(file_checksum(path, [&](int64_t bytes) { seen.push_back(bytes); }), text_checksum(text));
  EXPECT_EQ(seen, (std::vector<int64_t>{4 << 20, 8 << 20, 9 << 20}));
  EXPECT_EQ(file_checksum(path), text_checksum(text));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace strike::core
