// 8-bit images: PNG/JPEG decoding, channel conversion, bilinear resizing and PNG writing.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strike::core {

// An 8-bit image in CHW layout (planar), the layout shards and tensors use.
struct Image {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // channels * height * width bytes, CHW
  size_t size() const { return static_cast<size_t>(channels * height * width); }
};

// Decodes a PNG or JPEG file (detected by its magic bytes, not its extension) into 1 (gray) or
// 3 (RGB) channels: alpha is dropped, palettes expanded, 16-bit scaled to 8-bit, CMYK converted.
// Throws strike::Error naming the file if it is unreadable, truncated, corrupt or of another format.
Image decode_image(const std::string& path);

// Reads only the header of a PNG or JPEG: the channels/height/width decode_image would return
// (pixels stay empty). Cheap enough to scan a whole image folder before converting it.
Image probe_image(const std::string& path);

// Converts to 1 channel (ITU-R 601 luma, rounded like PIL's convert("L")) or 3 (gray replicated).
Image to_channels(const Image& image, int64_t channels);

// Bilinear resize with half-pixel centres and no antialiasing, like PyTorch's
// interpolate(align_corners=False) and torchvision's Resize(antialias=False) on uint8 tensors.
Image resize_bilinear(const Image& image, int64_t height, int64_t width);

// Writes an 8-bit gray (1 channel) or RGB (3 channels) PNG; throws naming the file on failure.
void encode_png(const Image& image, const std::string& path);

}  // namespace strike::core
