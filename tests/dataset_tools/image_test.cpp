// core/image: PNG/JPEG decoding (by magic bytes), channel conversion, bilinear resizing.
#include "core/image.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "test_util.h"

namespace strike {
namespace {

using core::Image;

// Expects `fn` to throw strike::Error whose message names `path`.
template <typename Fn>
void expect_error_naming(Fn fn, const std::string& path, const std::string& fragment = "") {
  try {
    fn();
    FAIL() << "expected strike::Error naming " << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Image, PngRoundTripGrayAndRgb) {
  test::TempDir dir;
  for (int64_t channels : {1, 3}) {
    Image image = test::gradient_image(channels, 9, 13, 2);
    std::string path = dir / ("p" + std::to_string(channels) + ".png");
    core::encode_png(image, path);
    Image decoded = core::decode_image(path);
    EXPECT_EQ(decoded.channels, channels);
    EXPECT_EQ(decoded.height, 9);
    EXPECT_EQ(decoded.width, 13);
    EXPECT_EQ(decoded.pixels, image.pixels);
    Image header = core::probe_image(path);
    EXPECT_EQ(header.channels, channels);
    EXPECT_EQ(header.height, 9);
    EXPECT_EQ(header.width, 13);
  }
}

TEST(Image, JpegDecodesCloseToSource) {
  test::TempDir dir;
  for (int64_t channels : {1, 3}) {
    Image image = test::gradient_image(channels, 24, 32, 1);
    std::string path = dir / ("j" + std::to_string(channels) + ".jpg");
    test::write_jpeg(image, path, 95);
    Image decoded = core::decode_image(path);
    ASSERT_EQ(decoded.channels, channels);
    ASSERT_EQ(decoded.height, 24);
    ASSERT_EQ(decoded.width, 32);
    double total = 0;
    for (size_t i = 0; i < image.pixels.size(); ++i) total += std::abs(decoded.pixels[i] - image.pixels[i]);
    EXPECT_LT(total / image.pixels.size(), 3.0);
    Image header = core::probe_image(path);
    EXPECT_EQ(header.channels, channels);
    EXPECT_EQ(header.height, 24);
    EXPECT_EQ(header.width, 32);
  }
}

TEST(Image, FormatComesFromMagicBytesNotExtension) {
  test::TempDir dir;
  Image image = test::gradient_image(3, 4, 5);
  core::encode_png(image, dir / "actually_png.jpg");
  EXPECT_EQ(core::decode_image(dir / "actually_png.jpg").pixels, image.pixels);
  test::write_jpeg(image, dir / "actually_jpeg.png");
  EXPECT_EQ(core::decode_image(dir / "actually_jpeg.png").channels, 3);
}

TEST(Image, PngTransformsPaletteAlphaAnd16Bit) {
  test::TempDir dir;
  // Palette: index 0 = red, 1 = blue.
  test::write_png_raw(dir / "pal.png", 2, 1, PNG_COLOR_TYPE_PALETTE, 8, {0, 1}, {255, 0, 0, 0, 0, 255});
  Image pal = core::decode_image(dir / "pal.png");
  EXPECT_EQ(pal.channels, 3);
  EXPECT_EQ(pal.pixels, (std::vector<uint8_t>{255, 0, 0, 0, 0, 255}));  // CHW: R plane, G plane, B plane
  // Gray + alpha: alpha dropped.
  test::write_png_raw(dir / "ga.png", 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {10, 0, 200, 255});
  Image ga = core::decode_image(dir / "ga.png");
  EXPECT_EQ(ga.channels, 1);
  EXPECT_EQ(ga.pixels, (std::vector<uint8_t>{10, 200}));
  EXPECT_EQ(core::probe_image(dir / "ga.png").channels, 1);
  // RGBA: alpha dropped.
  test::write_png_raw(dir / "rgba.png", 1, 1, PNG_COLOR_TYPE_RGBA, 8, {1, 2, 3, 4});
  EXPECT_EQ(core::decode_image(dir / "rgba.png").pixels, (std::vector<uint8_t>{1, 2, 3}));
  // 16-bit gray (big-endian samples) scaled to 8 bits.
  test::write_png_raw(dir / "g16.png", 2, 1, PNG_COLOR_TYPE_GRAY, 16, {0xff, 0xff, 0x80, 0x00});
  Image g16 = core::decode_image(dir / "g16.png");
  EXPECT_EQ(g16.channels, 1);
  EXPECT_EQ(g16.pixels[0], 255);
  EXPECT_NEAR(g16.pixels[1], 128, 1);
  // 1-bit gray expanded.
  test::write_png_raw(dir / "g1.png", 8, 1, PNG_COLOR_TYPE_GRAY, 1, {0b10100000});
  Image g1 = core::decode_image(dir / "g1.png");
  EXPECT_EQ(g1.pixels, (std::vector<uint8_t>{255, 0, 255, 0, 0, 0, 0, 0}));
}

TEST(Image, CorruptFilesThrowNamingTheFile) {
  test::TempDir dir;
  Image image = test::gradient_image(3, 40, 40);
  core::encode_png(image, dir / "good.png");
  test::write_jpeg(image, dir / "good.jpg");
  auto png = test::read_bytes(dir / "good.png");
  auto jpg = test::read_bytes(dir / "good.jpg");
  test::write_bytes(dir / "short.png", {png.begin(), png.begin() + png.size() / 2});
  test::write_bytes(dir / "short.jpg", {jpg.begin(), jpg.begin() + jpg.size() / 2});
  test::write_bytes(dir / "text.png", {'h', 'e', 'l', 'l', 'o'});
  test::write_bytes(dir / "empty.jpg", {});
  std::vector<uint8_t> garbled = jpg;
  for (size_t i = 200; i < garbled.size() - 2; i += 7) garbled[i] = 0xFF;  // destroy the entropy-coded data
  test::write_bytes(dir / "garbled.jpg", garbled);

  expect_error_naming([&] { core::decode_image(dir / "short.png"); }, dir / "short.png", "PNG");
  expect_error_naming([&] { core::decode_image(dir / "short.jpg"); }, dir / "short.jpg", "JPEG");
  expect_error_naming([&] { core::decode_image(dir / "text.png"); }, dir / "text.png", "not a PNG or JPEG");
  expect_error_naming([&] { core::decode_image(dir / "empty.jpg"); }, dir / "empty.jpg");
  expect_error_naming([&] { core::decode_image(dir / "missing.png"); }, dir / "missing.png");
  expect_error_naming([&] { core::probe_image(dir / "text.png"); }, dir / "text.png");
  expect_error_naming([&] { core::probe_image(dir / "empty.jpg"); }, dir / "empty.jpg");
  // A garbled JPEG must not crash or exit(); either it decodes (libjpeg tolerates some damage) or it throws.
  try {
    core::decode_image(dir / "garbled.jpg");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("garbled.jpg"), std::string::npos);
  }
}

TEST(Image, ToChannelsUsesItuR601LumaAndReplicatesGray) {
  Image rgb{3, 1, 3, {255, 0, 0, /*G*/ 0, 255, 0, /*B*/ 0, 0, 255}};
  Image gray = core::to_channels(rgb, 1);
  EXPECT_EQ(gray.channels, 1);
  EXPECT_EQ(gray.pixels, (std::vector<uint8_t>{76, 150, 29}));  // PIL's convert("L")
  Image back = core::to_channels(gray, 3);
  EXPECT_EQ(back.pixels, (std::vector<uint8_t>{76, 150, 29, 76, 150, 29, 76, 150, 29}));
  EXPECT_EQ(core::to_channels(rgb, 3).pixels, rgb.pixels);
  EXPECT_THROW(core::to_channels(rgb, 2), Error);
}

TEST(Image, ResizeMatchesTorchvisionBilinearWithoutAntialias) {
  Image ramp{1, 1, 2, {0, 255}};
  EXPECT_EQ(core::resize_bilinear(ramp, 1, 4).pixels, (std::vector<uint8_t>{0, 64, 191, 255}));

  Image pattern{1, 3, 5, {}};
  for (int v = 0; v < 15; ++v) pattern.pixels.push_back(static_cast<uint8_t>(v * 37 % 256));
  // Expected values from torchvision.transforms.functional.resize(x, size, antialias=False).
  EXPECT_EQ(core::resize_bilinear(pattern, 7, 4).pixels,
            (std::vector<uint8_t>{5,   51,  97, 143, 31,  64,  87,  133, 110, 102, 57, 103, 190, 140,
                                  26,  72,  159, 151, 105, 56, 129, 161, 185, 39, 119, 165, 211, 33}));
  EXPECT_EQ(core::resize_bilinear(pattern, 2, 3).pixels, (std::vector<uint8_t>{59, 56, 118, 144, 142, 75}));
  EXPECT_EQ(core::resize_bilinear(pattern, 3, 5).pixels, pattern.pixels);

  Image rgb = test::gradient_image(3, 10, 6);
  Image resized = core::resize_bilinear(rgb, 4, 8);
  EXPECT_EQ(resized.channels, 3);
  EXPECT_EQ(resized.pixels.size(), 3u * 4 * 8);
  EXPECT_THROW(core::resize_bilinear(rgb, 0, 8), Error);
}

}  // namespace
}  // namespace strike
