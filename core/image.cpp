// Format detection, channel conversion and resizing; the codecs live in png_codec/jpeg_codec.
#include "core/image.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "core/error.h"
#include "core/image_codecs.h"

namespace strike::core {

namespace {

using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;

FilePtr open_image(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error("cannot open image", path, "check that the file exists and is readable");
  return file;
}

// Reads up to `limit` bytes (all of the file when limit is 0).
std::vector<uint8_t> read_bytes(const std::string& path, size_t limit) {
  FilePtr file = open_image(path);
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    bytes.insert(bytes.end(), buffer, buffer + n);
    if (limit && bytes.size() >= limit) break;
  }
  if (std::ferror(file.get())) throw Error("read error", path, "check the disk and the file's permissions");
  return bytes;
}

[[noreturn]] void unknown_format(const std::string& path) {
  throw Error("not a PNG or JPEG image (unrecognised magic bytes)", path,
              "remove the file or convert it to PNG or JPEG");
}

}  // namespace

Image decode_image(const std::string& path) {
  std::vector<uint8_t> bytes = read_bytes(path, 0);
  if (codecs::is_png(bytes.data(), bytes.size())) return codecs::decode_png(bytes, path);
  if (codecs::is_jpeg(bytes.data(), bytes.size())) return codecs::decode_jpeg(bytes, path);
  unknown_format(path);
}

Image probe_image(const std::string& path) {
  std::vector<uint8_t> head = read_bytes(path, 64);
  if (codecs::is_png(head.data(), head.size())) return codecs::probe_png(head, path);
  if (codecs::is_jpeg(head.data(), head.size())) return codecs::probe_jpeg(path);
  unknown_format(path);
}

Image to_channels(const Image& image, int64_t channels) {
  if (channels != 1 && channels != 3) throw Error("images can have 1 or 3 channels, not " + std::to_string(channels));
  if (image.channels == channels) return image;
  if (image.channels != 1 && image.channels != 3) {
    throw Error("cannot convert an image with " + std::to_string(image.channels) + " channels");
  }
  const size_t plane = static_cast<size_t>(image.height * image.width);
  Image out{channels, image.height, image.width, std::vector<uint8_t>(plane * channels)};
  if (channels == 3) {
    for (int c = 0; c < 3; ++c) std::copy(image.pixels.begin(), image.pixels.begin() + plane, out.pixels.begin() + c * plane);
    return out;
  }
  // PIL's fixed-point ITU-R 601-2 luma, so converted datasets match Python pipelines bit for bit.
  const uint8_t* r = image.pixels.data();
  const uint8_t* g = r + plane;
  const uint8_t* b = g + plane;
  for (size_t i = 0; i < plane; ++i) {
    out.pixels[i] = static_cast<uint8_t>((r[i] * 19595u + g[i] * 38470u + b[i] * 7471u + 0x8000u) >> 16);
  }
  return out;
}

namespace {

// One axis of PyTorch's align_corners=False linear interpolation: source index pairs and weights.
struct Taps {
  std::vector<int64_t> lo, hi;
  std::vector<float> w_lo, w_hi;
};

Taps linear_taps(int64_t in, int64_t out) {
  Taps t;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t i = 0; i < out; ++i) {
    float src = std::max(scale * (static_cast<float>(i) + 0.5f) - 0.5f, 0.0f);
    int64_t lo = std::min(static_cast<int64_t>(src), in - 1);
    int64_t hi = std::min(lo + 1, in - 1);
    float lambda = src - static_cast<float>(lo);
    t.lo.push_back(lo);
    t.hi.push_back(hi);
    t.w_hi.push_back(lambda);
    t.w_lo.push_back(1.0f - lambda);
  }
  return t;
}

}  // namespace

Image resize_bilinear(const Image& image, int64_t height, int64_t width) {
  if (height <= 0 || width <= 0) throw Error("cannot resize to " + std::to_string(height) + "x" + std::to_string(width));
  if (image.height <= 0 || image.width <= 0) throw Error("cannot resize an empty image");
  if (image.height == height && image.width == width) return image;
  Taps ty = linear_taps(image.height, height), tx = linear_taps(image.width, width);
  Image out{image.channels, height, width, std::vector<uint8_t>(static_cast<size_t>(image.channels * height * width))};
  for (int64_t c = 0; c < image.channels; ++c) {
    const uint8_t* src = image.pixels.data() + c * image.height * image.width;
    uint8_t* dst = out.pixels.data() + c * height * width;
    for (int64_t y = 0; y < height; ++y) {
      const uint8_t* row0 = src + ty.lo[y] * image.width;
      const uint8_t* row1 = src + ty.hi[y] * image.width;
      for (int64_t x = 0; x < width; ++x) {
        // Same operation order as PyTorch's CPU kernel, then round-half-even like torch.round.
        float top = tx.w_lo[x] * row0[tx.lo[x]] + tx.w_hi[x] * row0[tx.hi[x]];
        float bottom = tx.w_lo[x] * row1[tx.lo[x]] + tx.w_hi[x] * row1[tx.hi[x]];
        float v = std::nearbyint(ty.w_lo[y] * top + ty.w_hi[y] * bottom);
        dst[y * width + x] = static_cast<uint8_t>(std::min(std::max(v, 0.0f), 255.0f));
      }
    }
  }
  return out;
}

void encode_png(const Image& image, const std::string& path) { codecs::write_png(image, path); }

Image codecs::from_interleaved(const std::vector<uint8_t>& hwc, int64_t channels, int64_t height, int64_t width) {
  Image out{channels, height, width, std::vector<uint8_t>(static_cast<size_t>(channels * height * width))};
  const int64_t plane = height * width;
  for (int64_t i = 0; i < plane; ++i) {
    for (int64_t c = 0; c < channels; ++c) out.pixels[c * plane + i] = hwc[i * channels + c];
  }
  return out;
}

}  // namespace strike::core
