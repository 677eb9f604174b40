// Converting image folders: mixed PNG/JPEG and sizes, channel choice, layouts, and bad input.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/converter.h"
#include "test_util.h"

namespace strike {
namespace {

namespace fs = std::filesystem;

// Writes `count` images into DIR/<name>/, alternating PNG and JPEG and varying the size.
void write_class(const std::string& dir, const std::string& name, int count, int64_t channels, int seed) {
  fs::create_directories(dir + "/" + name);
  for (int i = 0; i < count; ++i) {
    core::Image image = test::gradient_image(channels, 10 + i % 3, 12 + 2 * (i % 2), seed + i);
    std::string base = dir + "/" + name + "/img" + std::to_string(i);
    if (i % 2) {
      test::write_jpeg(image, base + ".jpg");
    } else {
      core::encode_png(image, base + ".png");
    }
  }
}

using test::error_of;

class ConvertFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    write_class(input_.path(), "cat", 10, 3, 0);
    write_class(input_.path(), "dog", 20, 1, 5);
    write_class(input_.path(), "emu", 10, 3, 9);
    test::write_bytes(input_ / "cat/README.txt", {'x'});  // not an image: skipped
    options_.input = input_.path();
    options_.output = output_ / "ds";
    options_.shards = 2;
    options_.image_size = 8;
    options_.val_fraction = 0.1;
    options_.test_fraction = 0.2;
  }
  test::TempDir input_, output_;
  data::ConvertOptions options_;
};

TEST_F(ConvertFolder, MixedFormatsAndSizesAreResized) {
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.source, "image_folder");
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"cat", "dog", "emu"}));
  EXPECT_EQ(m.field("image").shape, (std::vector<int64_t>{3, 8, 8}));  // some images are RGB
  EXPECT_EQ(m.split("train").samples, 28);
  EXPECT_EQ(m.split("val").samples, 4);
  EXPECT_EQ(m.split("test").samples, 8);
  EXPECT_EQ(m.extra["class_counts"]["test"], (std::vector<int64_t>{2, 4, 2}));
  EXPECT_EQ(m.split("train").shards.size(), 2u);
  ASSERT_EQ(m.mean.size(), 3u);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_GT(m.mean[c], 0.0);
    EXPECT_LT(m.mean[c], 1.0);
    EXPECT_GT(m.std[c], 0.0);
  }
  // Gray class images are replicated to RGB: their three planes are equal.
  core::ShardReader reader(options_.output + "/" + m.split("train").shards[0].file, m.fields);
  std::vector<uint8_t> images(reader.rows() * 3 * 64);
  std::vector<int64_t> labels(reader.rows());
  reader.read(m.field("image"), 0, reader.rows(), images.data());
  reader.read(m.field("label"), 0, reader.rows(), labels.data());
  for (int64_t r = 0; r < reader.rows(); ++r) {
    if (labels[r] != 1) continue;
    const uint8_t* row = images.data() + r * 192;
    EXPECT_TRUE(std::equal(row, row + 64, row + 64));
  }
}

TEST_F(ConvertFolder, GrayFoldersStayGrayAndChannelsCanBeForced) {
  test::TempDir gray;
  write_class(gray.path(), "a", 6, 1, 0);
  write_class(gray.path(), "b", 6, 1, 3);
  options_.input = gray.path();
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.field("image").shape, (std::vector<int64_t>{1, 8, 8}));
  options_.input = input_.path();
  options_.channels = 1;
  options_.overwrite = true;
  m = data::convert(options_);
  EXPECT_EQ(m.field("image").shape, (std::vector<int64_t>{1, 8, 8}));
  EXPECT_EQ(m.mean.size(), 1u);
}

TEST_F(ConvertFolder, SplitLayoutUsesItsOwnTestSet) {
  test::TempDir layout;
  write_class(layout / "train", "x", 10, 3, 0);
  write_class(layout / "train", "y", 10, 3, 1);
  write_class(layout / "test", "y", 3, 3, 2);
  options_.input = layout.path();
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(m.split("test").samples, 3);
  EXPECT_EQ(m.split("val").samples, 2);
  EXPECT_EQ(m.split("train").samples, 18);
}

TEST_F(ConvertFolder, SameSizedImagesNeedNoResize) {
  test::TempDir same;
  for (const char* name : {"p", "q"}) {
    fs::create_directories(same / name);
    for (int i = 0; i < 4; ++i) core::encode_png(test::gradient_image(3, 7, 9, i), same / (std::string(name) + "/" + std::to_string(i) + ".png"));
  }
  options_.input = same.path();
  options_.image_size = 0;
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.field("image").shape, (std::vector<int64_t>{3, 7, 9}));
}

TEST_F(ConvertFolder, WrongSizedImageWithoutResizeNamesTheFile) {
  options_.image_size = 0;
  std::string message = error_of(options_);
  EXPECT_NE(message.find(input_.path()), std::string::npos) << message;
  EXPECT_NE(message.find("--image-size"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(options_.output + "/manifest.json"));
}

TEST_F(ConvertFolder, EmptyClassFolderNamesTheFolder) {
  fs::create_directories(input_ / "zebra");
  std::string message = error_of(options_);
  EXPECT_NE(message.find(input_ / "zebra"), std::string::npos) << message;
  EXPECT_NE(message.find("no PNG or JPEG"), std::string::npos) << message;
}

TEST_F(ConvertFolder, UnreadableImageNamesTheFile) {
  test::write_bytes(input_ / "dog/broken.png", {1, 2, 3, 4, 5});
  std::string message = error_of(options_);
  EXPECT_NE(message.find(input_ / "dog/broken.png"), std::string::npos) << message;
}

TEST_F(ConvertFolder, ImageCorruptPastItsHeaderLeavesNoShards) {
  // The header probe passes; decoding fails while shards are being written.
  auto bytes = test::read_bytes(input_ / "emu/img0.png");
  test::write_bytes(input_ / "emu/img0.png", {bytes.begin(), bytes.begin() + bytes.size() * 2 / 3});
  std::string message = error_of(options_);
  EXPECT_NE(message.find(input_ / "emu/img0.png"), std::string::npos) << message;
  ASSERT_TRUE(fs::is_directory(options_.output));
  EXPECT_TRUE(fs::is_empty(options_.output)) << "shards of a failed conversion must be removed";
}

TEST_F(ConvertFolder, MissingInputDirAndNoClasses) {
  options_.input = input_ / "nowhere";
  std::string message = error_of(options_);
  EXPECT_NE(message.find(input_ / "nowhere"), std::string::npos) << message;
  test::TempDir empty;
  options_.input = empty.path();
  message = error_of(options_);
  EXPECT_NE(message.find("no class sub-folders"), std::string::npos) << message;
}

}  // namespace
}  // namespace strike
