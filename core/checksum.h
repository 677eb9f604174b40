// File checksums recorded in manifests and re-checked by `strike data verify` and the loader.
#pragma once
#include <string>

namespace strike::core {

// CRC-32 (zlib) of a whole file, as "crc32:xxxxxxxx". Throws naming the file if unreadable.
std::string file_checksum(const std::string& path);

// CRC-32 of a byte string, as "crc32:xxxxxxxx".
std::string text_checksum(const std::string& text);

}  // namespace strike::core
