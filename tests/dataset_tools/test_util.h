// Fixtures shared by the dataset_tools tests: temporary directories and synthetic IDX/JPEG/PNG files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/image.h"
#include "dataset_tools/converter.h"

namespace strike::test {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The message of the strike::Error that converting with `options` throws, or "(no error)".
std::string error_of(const data::ConvertOptions& options);

// Writes an IDX file of unsigned bytes with magic 0x000008<ndims>, gzipped when `gzip`.
void write_idx(const std::string& path, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data, bool gzip);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_bytes(const std::string& path);

// A synthetic MNIST-like IDX set: sample i of a part has label i % classes and pixels
// p[k] = (i * 7 + k * 13 + part_salt) % 256, except p[0] = i % 256 and p[1] = i / 256 so
// tests can recover which sample a shard row is.
struct IdxSet {
  int64_t height, width, classes;
  std::vector<uint8_t> train_images, test_images;
  std::vector<uint8_t> train_labels, test_labels;
};
IdxSet make_idx_set(int64_t train, int64_t test, int64_t height, int64_t width, int64_t classes);
void write_idx_set(const IdxSet& set, const std::string& dir, bool gzip, bool with_test = true);

// A smooth, deterministic test picture (so JPEG round trips stay close).
core::Image gradient_image(int64_t channels, int64_t height, int64_t width, int seed = 0);

// Writes an 8-bit JPEG of a 1- or 3-channel image with libjpeg.
void write_jpeg(const core::Image& image, const std::string& path, int quality = 95);

// Writes a PNG with an arbitrary colour type and bit depth from raw interleaved rows (for testing
// the decoder's palette, alpha and 16-bit transforms). `palette` is RGB triples for palette images.
void write_png_raw(const std::string& path, int width, int height, int color_type, int bit_depth,
                   const std::vector<uint8_t>& rows, const std::vector<uint8_t>& palette = {});

}  // namespace strike::test
