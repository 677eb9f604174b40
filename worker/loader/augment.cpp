// Crop-with-padding, horizontal flip and normalization over whole batches of uint8 images.
#include "worker/loader/augment.h"

#include <algorithm>

#include "core/rng.h"

namespace strike::worker {

std::vector<SampleTransform> draw_transforms(int64_t batch, int64_t padding, bool hflip, uint64_t seed) {
  core::Rng rng(seed);
  std::vector<SampleTransform> t(batch);
  const uint64_t span = static_cast<uint64_t>(2 * std::max<int64_t>(padding, 0) + 1);
  for (auto& s : t) {
    // Always draw all three, so the stream does not depend on which options are on.
    s.dy = static_cast<int64_t>(rng.below(span)) - std::max<int64_t>(padding, 0);
    s.dx = static_cast<int64_t>(rng.below(span)) - std::max<int64_t>(padding, 0);
    s.flip = (rng.below(2) == 1) && hflip;
  }
  return t;
}

Normalizer Normalizer::from_stats(const std::vector<double>& mean, const std::vector<double>& std) {
  Normalizer n;
  for (size_t c = 0; c < mean.size(); ++c) {
    n.scale.push_back(static_cast<float>(1.0 / (255.0 * std[c])));
    n.bias.push_back(static_cast<float>(-mean[c] / std[c]));
  }
  return n;
}

namespace {
// Writes one transformed image, mapping each source byte through `map` and padding with `zero(c)`.
template <typename Out, typename Map, typename Zero>
void transform_image(const uint8_t* in, const ImageShape& s, const SampleTransform& t, Out* out, Map map, Zero zero) {
  const int64_t H = s.height, W = s.width;
  for (int64_t c = 0; c < s.channels; ++c) {
    const uint8_t* plane = in + c * H * W;
    for (int64_t y = 0; y < H; ++y) {
      Out* row = out + (c * H + y) * W;
      const int64_t sy = y + t.dy;
      if (sy < 0 || sy >= H) {
        std::fill(row, row + W, zero(c));
        continue;
      }
      const uint8_t* src = plane + sy * W;
      for (int64_t x = 0; x < W; ++x) {
        const int64_t sx = (t.flip ? W - 1 - x : x) + t.dx;
        row[x] = (sx < 0 || sx >= W) ? zero(c) : map(c, src[sx]);
      }
    }
  }
}
}  // namespace

void augment_batch(const uint8_t* in, int64_t batch, const ImageShape& shape,
                   const std::vector<SampleTransform>& transforms, uint8_t* out) {
  const int64_t n = shape.pixels();
  for (int64_t b = 0; b < batch; ++b) {
    transform_image(in + b * n, shape, transforms[b], out + b * n, [](int64_t, uint8_t v) { return v; },
                    [](int64_t) { return uint8_t{0}; });
  }
}

void normalize_batch(const uint8_t* in, int64_t batch, const ImageShape& shape, const Normalizer& norm, float* out) {
  const int64_t plane = shape.height * shape.width;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < shape.channels; ++c) {
      const float scale = norm.scale[c], bias = norm.bias[c];
      const uint8_t* src = in + (b * shape.channels + c) * plane;
      float* dst = out + (b * shape.channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i) dst[i] = static_cast<float>(src[i]) * scale + bias;
    }
  }
}

void augment_normalize_batch(const uint8_t* in, int64_t batch, const ImageShape& shape,
                             const std::vector<SampleTransform>& transforms, const Normalizer& norm, float* out) {
  const int64_t n = shape.pixels();
  auto map = [&](int64_t c, uint8_t v) { return static_cast<float>(v) * norm.scale[c] + norm.bias[c]; };
  auto zero = [&](int64_t c) { return norm.bias[c]; };
  for (int64_t b = 0; b < batch; ++b) transform_image(in + b * n, shape, transforms[b], out + b * n, map, zero);
}

}  // namespace strike::worker
