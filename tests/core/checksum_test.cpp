// CRC-32 helpers: the standard check value, and memory and text checksums agreeing.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace strike::core
