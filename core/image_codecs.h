// Internal to core/image.cpp: the libpng and libjpeg halves of decode_image/probe_image/encode_png.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/image.h"

namespace strike::core::codecs {

bool is_png(const uint8_t* data, size_t size);
bool is_jpeg(const uint8_t* data, size_t size);

// `bytes` is the whole file; `path` only names it in errors. Results are CHW.
Image decode_png(const std::vector<uint8_t>& bytes, const std::string& path);
Image decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& path);

// `head` is at least the first 33 bytes of the file.
Image probe_png(const std::vector<uint8_t>& head, const std::string& path);
Image probe_jpeg(const std::string& path);

void write_png(const Image& image, const std::string& path);

// Largest image decoded, in pixels: a corrupt header must not turn into a giant allocation.
constexpr int64_t kMaxPixels = int64_t{1} << 28;

// Interleaved rows (HWC) to planar (CHW).
Image from_interleaved(const std::vector<uint8_t>& hwc, int64_t channels, int64_t height, int64_t width);

}  // namespace strike::core::codecs
