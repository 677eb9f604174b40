// CRC-32 over files read in large blocks.
#include "core/checksum.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "core/error.h"

namespace strike::core {

namespace {
std::string format_crc(uLong crc) {
  char buffer[20];
  std::snprintf(buffer, sizeof(buffer), "crc32:%08lx", static_cast<unsigned long>(crc));
  return buffer;
}
}  // namespace

std::string file_checksum(const std::string& path, const std::function<void(int64_t)>& on_read) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error("cannot open file to checksum it", path, "check that it exists and is readable");
  std::vector<unsigned char> buffer(4 << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  int64_t done = 0;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    crc = crc32(crc, buffer.data(), static_cast<uInt>(n));
    done += static_cast<int64_t>(n);
    if (on_read) on_read(done);
  }
  if (std::ferror(file.get())) throw Error("read error while checksumming", path);
  return format_crc(crc);
}

std::string text_checksum(const std::string& text) { return format_crc(crc32_of(text.data(), text.size())); }

uint32_t crc32_of(const void* data, size_t size) {
  const auto* bytes = static_cast<const Bytef*>(data);
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < size;) {
    const size_t chunk = std::min<size_t>(size - done, size_t{1} << 30);  // zlib takes 32-bit lengths
    crc = crc32(crc, bytes + done, static_cast<uInt>(chunk));
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace strike::core
