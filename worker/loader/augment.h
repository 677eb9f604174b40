// Batch-wise image augmentation and normalization in plain loops (no torch ops, so the loader
// thread never competes with torch's intra-op thread pool).
#pragma once
#include <cstdint>
#include <vector>

namespace strike::worker {

struct ImageShape {
  int64_t channels = 1;
  int64_t height = 1;
  int64_t width = 1;
  int64_t pixels() const { return channels * height * width; }
};

// One sample's random crop and flip: output (y, x) takes input (y + dy, x' + dx) where
// x' = W-1-x if flipped; pixels outside the input are zero, as with zero padding then cropping.
struct SampleTransform {
  int64_t dy = 0;
  int64_t dx = 0;
  bool flip = false;
};

// Draws `batch` transforms from `seed`: offsets uniform in [-padding, padding], flip with p=0.5.
std::vector<SampleTransform> draw_transforms(int64_t batch, int64_t padding, bool hflip, uint64_t seed);

// Per-channel affine map from uint8 to float: x * scale[c] + bias[c], i.e. (x/255 - mean) / std.
struct Normalizer {
  std::vector<float> scale;
  std::vector<float> bias;
  static Normalizer from_stats(const std::vector<double>& mean, const std::vector<double>& std);
};

// `in` and `out` hold `batch` images [C, H, W] back to back; `transforms` has one entry per image.
void augment_batch(const uint8_t* in, int64_t batch, const ImageShape& shape,
                   const std::vector<SampleTransform>& transforms, uint8_t* out);
void normalize_batch(const uint8_t* in, int64_t batch, const ImageShape& shape, const Normalizer& norm, float* out);
// Both in one pass; padding pixels become the normalized value of 0.
void augment_normalize_batch(const uint8_t* in, int64_t batch, const ImageShape& shape,
                             const std::vector<SampleTransform>& transforms, const Normalizer& norm, float* out);

}  // namespace strike::worker
