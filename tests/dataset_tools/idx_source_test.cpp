// IDX reading: plain and gzipped files, and every kind of bad input named in the error.
#include "dataset_tools/idx_source.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_util.h"

namespace strike {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Idx, ReadsPlainAndGzippedFiles) {
  test::TempDir dir;
  std::vector<uint8_t> data;
  for (int i = 0; i < 2 * 3 * 4; ++i) data.push_back(static_cast<uint8_t>(i * 5));
  for (bool gzip : {false, true}) {
    std::string path = dir / (gzip ? "a.gz" : "a");
    test::write_idx(path, {2, 3, 4}, data, gzip);
    data::IdxArray array = data::read_idx(path, 3);
    EXPECT_EQ(array.dims, (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(array.data, data);
  }
}

TEST(Idx, SourceLoadsTrainAndTestParts) {
  test::TempDir dir;
  test::IdxSet set = test::make_idx_set(30, 12, 4, 3, 10);
  test::write_idx_set(set, dir.path(), true);
  auto source = data::open_source("auto", dir.path());
  EXPECT_EQ(source->kind(), "idx");
  EXPECT_TRUE(source->has(data::Part::kTrain));
  EXPECT_TRUE(source->has(data::Part::kTest));
  EXPECT_FALSE(source->has(data::Part::kVal));
  EXPECT_EQ(source->labels(data::Part::kTrain).size(), 30u);
  EXPECT_EQ(source->labels(data::Part::kTest).size(), 12u);
  EXPECT_EQ(source->class_names().front(), "0");
  EXPECT_EQ(source->class_names().size(), 10u);
  EXPECT_EQ(source->uniform_size(), (std::pair<int64_t, int64_t>{4, 3}));
  core::Image image = source->load(data::Part::kTrain, 5);
  EXPECT_EQ(image.channels, 1);
  EXPECT_EQ(std::vector<uint8_t>(set.train_images.begin() + 5 * 12, set.train_images.begin() + 6 * 12), image.pixels);
}

TEST(Idx, FashionDirectoryGetsFashionClassNames) {
  test::TempDir dir;
  std::string fashion = dir / "my-Fashion-set";
  std::filesystem::create_directory(fashion);
  test::write_idx_set(test::make_idx_set(10, 0, 2, 2, 10), fashion, false, false);
  auto source = data::open_source("idx", fashion);
  EXPECT_EQ(source->class_names().front(), "T-shirt/top");
  EXPECT_EQ(source->class_names().back(), "Ankle boot");
  EXPECT_FALSE(source->has(data::Part::kTest));
}

TEST(Idx, WrongMagicNamesTheFile) {
  test::TempDir dir;
  test::write_idx(dir / "labels", {4}, {0, 1, 2, 3}, false);
  std::string message = error_of([&] { data::read_idx(dir / "labels", 3); });
  EXPECT_NE(message.find(dir / "labels"), std::string::npos) << message;
  EXPECT_NE(message.find("magic"), std::string::npos) << message;
  EXPECT_NE(message.find("0x00000801"), std::string::npos) << message;
}

TEST(Idx, TruncatedFilesNameTheFile) {
  test::TempDir dir;
  test::write_idx(dir / "plain", {2, 3, 4}, std::vector<uint8_t>(24, 7), false);
  auto bytes = test::read_bytes(dir / "plain");
  test::write_bytes(dir / "cut", {bytes.begin(), bytes.end() - 5});
  std::string message = error_of([&] { data::read_idx(dir / "cut", 3); });
  EXPECT_NE(message.find(dir / "cut"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;

  test::write_bytes(dir / "header-only", {0, 0, 8, 3, 0, 0});
  message = error_of([&] { data::read_idx(dir / "header-only", 3); });
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;

  test::write_idx(dir / "z.gz", {2, 3, 4}, std::vector<uint8_t>(24, 7), true);
  auto gz = test::read_bytes(dir / "z.gz");
  test::write_bytes(dir / "cut.gz", {gz.begin(), gz.begin() + gz.size() / 2});
  message = error_of([&] { data::read_idx(dir / "cut.gz", 3); });
  EXPECT_NE(message.find(dir / "cut.gz"), std::string::npos) << message;
}

TEST(Idx, MissingFileAndCountMismatchNameTheFile) {
  test::TempDir dir;
  std::string message = error_of([&] { data::read_idx(dir / "nope", 1); });
  EXPECT_NE(message.find(dir / "nope"), std::string::npos) << message;

  test::IdxSet set = test::make_idx_set(10, 0, 2, 2, 10);
  test::write_idx(dir / "train-images-idx3-ubyte", {10, 2, 2}, set.train_images, false);
  test::write_idx(dir / "train-labels-idx1-ubyte", {9}, std::vector<uint8_t>(9, 1), false);
  message = error_of([&] { data::open_source("idx", dir.path()); });
  EXPECT_NE(message.find("train-labels-idx1-ubyte"), std::string::npos) << message;
  EXPECT_NE(message.find("9 labels"), std::string::npos) << message;

  std::filesystem::remove(dir / "train-labels-idx1-ubyte");
  message = error_of([&] { data::open_source("idx", dir.path()); });
  EXPECT_NE(message.find("train-labels-idx1-ubyte"), std::string::npos) << message;
}

}  // namespace
}  // namespace strike
