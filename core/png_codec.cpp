// libpng decoding, header probing and writing. libpng reports errors by longjmp, so every call
// into it sits in a function whose only locals are plain C data; C++ state lives in the caller.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/fs.h"
#include "core/image_codecs.h"

namespace strike::core::codecs {

namespace {

// Everything a decode needs that must survive a longjmp.
struct PngJob {
  const std::vector<uint8_t>* bytes = nullptr;
  size_t pos = 0;
  std::vector<uint8_t> hwc;
  std::vector<png_bytep> rows;
  int64_t channels = 0, height = 0, width = 0;
  char message[256] = {0};
};

void on_error(png_structp png, png_const_charp message) {
  auto* job = static_cast<PngJob*>(png_get_error_ptr(png));
  std::snprintf(job->message, sizeof(job->message), "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // benign (e.g. unknown chunks); real damage is an error

void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* job = static_cast<PngJob*>(png_get_io_ptr(png));
  if (job->pos + length > job->bytes->size()) png_error(png, "file is truncated");
  std::memcpy(out, job->bytes->data() + job->pos, length);
  job->pos += length;
}

// Returns false with job->message set on any libpng error.
bool decode_raw(PngJob* job) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job, on_error, on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return false;
  }
  png_set_read_fn(png, job, read_from_memory);
  png_read_info(png, info);
  int color = png_get_color_type(png, info);
  int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_scale_16(png);
  // Unconditional: expanding a palette or gray image with a tRNS chunk also adds an alpha channel.
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  job->channels = png_get_channels(png, info);
  job->height = png_get_image_height(png, info);
  job->width = png_get_image_width(png, info);
  if (job->channels != 1 && job->channels != 3) png_error(png, "unsupported channel layout");
  if (job->height * job->width > kMaxPixels) png_error(png, "image is too large");
  job->hwc.resize(static_cast<size_t>(job->channels * job->height * job->width));
  job->rows.resize(static_cast<size_t>(job->height));
  for (int64_t y = 0; y < job->height; ++y) job->rows[y] = job->hwc.data() + y * job->width * job->channels;
  png_read_image(png, job->rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

struct PngWriteJob {
  FILE* file = nullptr;
  const Image* image = nullptr;
  std::vector<uint8_t> hwc;
  std::vector<png_bytep> rows;
  char message[256] = {0};
};

void on_write_error(png_structp png, png_const_charp message) {
  auto* job = static_cast<PngWriteJob*>(png_get_error_ptr(png));
  std::snprintf(job->message, sizeof(job->message), "%s", message);
  png_longjmp(png, 1);
}

bool write_raw(PngWriteJob* job) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job, on_write_error, on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, info ? &info : nullptr);
    return false;
  }
  const Image& im = *job->image;
  png_init_io(png, job->file);
  png_set_IHDR(png, info, static_cast<png_uint_32>(im.width), static_cast<png_uint_32>(im.height), 8,
               im.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, job->rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

bool is_png(const uint8_t* data, size_t size) { return size >= 8 && png_sig_cmp(data, 0, 8) == 0; }

Image decode_png(const std::vector<uint8_t>& bytes, const std::string& path) {
  PngJob job;
  job.bytes = &bytes;
  if (!decode_raw(&job)) {
    throw Error(std::string("corrupt PNG: ") + (job.message[0] ? job.message : "libpng failed"), path,
                "re-export the image or remove it from the dataset");
  }
  return from_interleaved(job.hwc, job.channels, job.height, job.width);
}

Image probe_png(const std::vector<uint8_t>& head, const std::string& path) {
  // Signature (8), IHDR length (4) and type (4), then width, height, bit depth, colour type.
  if (head.size() < 26 || std::memcmp(head.data() + 12, "IHDR", 4) != 0) {
    throw Error("corrupt PNG: no IHDR header", path, "re-export the image or remove it from the dataset");
  }
  Image info;
  info.width = big_endian(head.data() + 16);
  info.height = big_endian(head.data() + 20);
  int color = head[25];
  info.channels = (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) ? 1 : 3;
  if (info.width <= 0 || info.height <= 0 || info.width * info.height > kMaxPixels) {
    throw Error("corrupt PNG: invalid size " + std::to_string(info.width) + "x" + std::to_string(info.height), path,
                "re-export the image or remove it from the dataset");
  }
  return info;
}

void write_png(const Image& image, const std::string& path) {
  if (image.channels != 1 && image.channels != 3) {
    throw Error("PNG writing supports 1 or 3 channels, not " + std::to_string(image.channels), path);
  }
  if (image.height <= 0 || image.width <= 0 || image.pixels.size() != image.size()) {
    throw Error("image pixel buffer does not match its size", path);
  }
  PngWriteJob job;
  job.image = &image;
  const int64_t plane = image.height * image.width;
  job.hwc.resize(image.size());
  for (int64_t i = 0; i < plane; ++i) {
    for (int64_t c = 0; c < image.channels; ++c) job.hwc[i * image.channels + c] = image.pixels[c * plane + i];
  }
  for (int64_t y = 0; y < image.height; ++y) job.rows.push_back(job.hwc.data() + y * image.width * image.channels);
  std::string tmp = temporary_name(path);
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(tmp.c_str(), "wb"), &std::fclose);
  if (!file) throw Error("cannot write PNG", path, "check that the directory exists and is writable");
  job.file = file.get();
  bool ok = write_raw(&job);
  ok = (std::fclose(file.release()) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error(std::string("cannot write PNG: ") + (job.message[0] ? job.message : "write failed (disk full?)"), path);
  }
  commit_file(tmp, path);
}

}  // namespace strike::core::codecs
