// Implementation of the dataset_tools test fixtures.
#include "test_util.h"

#include <png.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <jpeglib.h>

#include "core/error.h"
#include "core/fs.h"

namespace strike::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "strike-data-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  strike::core::remove_tree(path_);
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_idx(const std::string& path, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data, bool gzip) {
  std::vector<uint8_t> bytes{0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (int64_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>((d >> shift) & 0xff));
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  if (!gzip) return write_bytes(path, bytes);
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

IdxSet make_idx_set(int64_t train, int64_t test, int64_t height, int64_t width, int64_t classes) {
  IdxSet set{height, width, classes, {}, {}, {}, {}};
  auto fill = [&](int64_t n, int salt, std::vector<uint8_t>& images, std::vector<uint8_t>& labels) {
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k = 0; k < height * width; ++k) images.push_back(static_cast<uint8_t>((i * 7 + k * 13 + salt) % 256));
      images[i * height * width] = static_cast<uint8_t>(i % 256);
      images[i * height * width + 1] = static_cast<uint8_t>(i / 256);
      labels.push_back(static_cast<uint8_t>(i % classes));
    }
  };
  fill(train, 0, set.train_images, set.train_labels);
  fill(test, 101, set.test_images, set.test_labels);
  return set;
}

void write_idx_set(const IdxSet& set, const std::string& dir, bool gzip, bool with_test) {
  const std::string gz = gzip ? ".gz" : "";
  const int64_t n_train = static_cast<int64_t>(set.train_labels.size());
  const int64_t n_test = static_cast<int64_t>(set.test_labels.size());
  write_idx(dir + "/train-images-idx3-ubyte" + gz, {n_train, set.height, set.width}, set.train_images, gzip);
  write_idx(dir + "/train-labels-idx1-ubyte" + gz, {n_train}, set.train_labels, gzip);
  if (!with_test) return;
  write_idx(dir + "/t10k-images-idx3-ubyte" + gz, {n_test, set.height, set.width}, set.test_images, gzip);
  write_idx(dir + "/t10k-labels-idx1-ubyte" + gz, {n_test}, set.test_labels, gzip);
}

core::Image gradient_image(int64_t channels, int64_t height, int64_t width, int seed) {
  core::Image image{channels, height, width, {}};
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t y = 0; y < height; ++y) {
      for (int64_t x = 0; x < width; ++x) {
        // At most 100 + 40 + 60 + 49 = 249: no wrap-around edge for JPEG to blur.
        int64_t v = x * 100 / std::max<int64_t>(width - 1, 1) + y * 40 / std::max<int64_t>(height - 1, 1) + c * 30 +
                    seed * 7 % 50;
        image.pixels.push_back(static_cast<uint8_t>(v));
      }
    }
  }
  return image;
}

void write_jpeg(const core::Image& image, const std::string& path, int quality) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write " + path);
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = static_cast<int>(image.channels);
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const int64_t plane = image.height * image.width;
  std::vector<uint8_t> row(static_cast<size_t>(image.width * image.channels));
  for (int64_t y = 0; y < image.height; ++y) {
    for (int64_t x = 0; x < image.width; ++x) {
      for (int64_t c = 0; c < image.channels; ++c) row[x * image.channels + c] = image.pixels[c * plane + y * image.width + x];
    }
    JSAMPROW pointer = row.data();
    jpeg_write_scanlines(&cinfo, &pointer, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(file);
}

void write_png_raw(const std::string& path, int width, int height, int color_type, int bit_depth,
                   const std::vector<uint8_t>& rows, const std::vector<uint8_t>& palette) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> colors;
  for (size_t i = 0; i + 2 < palette.size(); i += 3) colors.push_back({palette[i], palette[i + 1], palette[i + 2]});
  if (!colors.empty()) png_set_PLTE(png, info, colors.data(), static_cast<int>(colors.size()));
  png_write_info(png, info);
  const size_t stride = rows.size() / height;
  for (int y = 0; y < height; ++y) png_write_row(png, const_cast<png_bytep>(rows.data() + y * stride));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(file);
}

std::string error_of(const data::ConvertOptions& options) {
  try {
    data::convert(options);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace strike::test
