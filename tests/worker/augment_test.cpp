// Augmentation and normalization on hand-made images: flip, zero padding, crop shape, the math.
#include <gtest/gtest.h>

#include <set>

#include "worker/loader/augment.h"

namespace strike::worker {
namespace {

const ImageShape kShape{1, 3, 4};

std::vector<uint8_t> ramp() {
  std::vector<uint8_t> img(12);
  for (int i = 0; i < 12; ++i) img[i] = static_cast<uint8_t>(10 + i);
  return img;
}

TEST(Augment, FlipMirrorsEveryRow) {
  std::vector<uint8_t> out(12);
  augment_batch(ramp().data(), 1, kShape, {{0, 0, true}}, out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{13, 12, 11, 10, 17, 16, 15, 14, 21, 20, 19, 18}));
}

TEST(Augment, ShiftedCropKeepsShapeAndZeroPads) {
  std::vector<uint8_t> out(12, 99);
  // Output (y, x) takes input (y + 1, x - 1): the last row and the first column fall off the image.
  augment_batch(ramp().data(), 1, kShape, {{1, -1, false}}, out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 14, 15, 16, 0, 18, 19, 20, 0, 0, 0, 0}));
}

TEST(Augment, IdentityTransformCopies) {
  std::vector<uint8_t> out(12);
  augment_batch(ramp().data(), 1, kShape, {{0, 0, false}}, out.data());
  EXPECT_EQ(out, ramp());
}

TEST(Augment, DrawsAreDeterministicAndCoverTheRange) {
  auto a = draw_transforms(500, 4, true, 123);
  auto b = draw_transforms(500, 4, true, 123);
  std::set<int64_t> offsets;
  int flips = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].dy, b[i].dy);
    EXPECT_EQ(a[i].flip, b[i].flip);
    EXPECT_GE(a[i].dy, -4);
    EXPECT_LE(a[i].dx, 4);
    offsets.insert(a[i].dx);
    flips += a[i].flip;
  }
  EXPECT_EQ(offsets.size(), 9u);
  EXPECT_GT(flips, 180);
  EXPECT_LT(flips, 320);
  for (const auto& t : draw_transforms(50, 4, false, 1)) EXPECT_FALSE(t.flip);
}

TEST(Normalize, MatchesTheFormula) {
  const ImageShape shape{2, 1, 2};
  const std::vector<uint8_t> in = {0, 255, 128, 7};
  Normalizer norm = Normalizer::from_stats({0.5, 0.2}, {0.25, 0.4});
  std::vector<float> out(4);
  normalize_batch(in.data(), 1, shape, norm, out.data());
  EXPECT_NEAR(out[0], (0 / 255.0 - 0.5) / 0.25, 1e-5);
  EXPECT_NEAR(out[1], (255 / 255.0 - 0.5) / 0.25, 1e-5);
  EXPECT_NEAR(out[2], (128 / 255.0 - 0.2) / 0.4, 1e-5);
  EXPECT_NEAR(out[3], (7 / 255.0 - 0.2) / 0.4, 1e-5);
}

TEST(Normalize, FusedPassPadsWithNormalizedZero) {
  Normalizer norm = Normalizer::from_stats({0.3}, {0.5});
  std::vector<float> out(12);
  augment_normalize_batch(ramp().data(), 1, kShape, {{-1, 0, true}}, norm, out.data());
  EXPECT_NEAR(out[0], (0 - 0.3) / 0.5, 1e-6);                // first row is padding
  EXPECT_NEAR(out[4], (13 / 255.0 - 0.3) / 0.5, 1e-5);       // row 1 = flipped input row 0
  EXPECT_NEAR(out[7], (10 / 255.0 - 0.3) / 0.5, 1e-5);
}

}  // namespace
}  // namespace strike::worker
