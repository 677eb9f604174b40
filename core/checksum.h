// File checksums recorded in manifests and re-checked by `strike data verify` and the loader.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace strike::core {

// CRC-32 (zlib) of a whole file, as "crc32:xxxxxxxx". Throws naming the file if unreadable.
// `on_read(bytes)`, if given, runs after each block of 4 MiB with the bytes read so far: a caller can
// show progress through a file of many gigabytes.
std::string file_checksum(const std::string& path, const std::function<void(int64_t)>& on_read = {});

// CRC-32 of a byte string, as "crc32:xxxxxxxx".
std::string text_checksum(const std::string& text);

// CRC-32 (zlib) of `size` bytes of memory, any size.
uint32_t crc32_of(const void* data, size_t size);

}  // namespace strike::core
