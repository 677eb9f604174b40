// End to end on the real Fashion-MNIST (skipped when it is not installed): counts, time, statistics.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "core/env.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/verify.h"
#include "test_util.h"

namespace strike {
namespace {

TEST(FashionMnist, ConvertsInUnderThirtySeconds) {
  const std::string input = env::get(env::kFashionMnistDir, "/usr/share/datasets/fashion-mnist");
  if (!std::filesystem::is_directory(input)) GTEST_SKIP() << "Fashion-MNIST not found in " << input;
  test::TempDir output;
  data::ConvertOptions options;
  options.input = input;
  options.output = output / "fashion";
  auto start = std::chrono::steady_clock::now();
  core::Manifest m = data::convert(options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 30.0);
  EXPECT_EQ(m.split("train").samples, 54000);
  EXPECT_EQ(m.split("val").samples, 6000);
  EXPECT_EQ(m.split("test").samples, 10000);
  EXPECT_EQ(m.split("train").shards.size(), 4u);
  EXPECT_EQ(m.class_names.at(0), "T-shirt/top");
  EXPECT_EQ(m.class_names.at(9), "Ankle boot");
  EXPECT_EQ(m.extra["class_counts"]["val"], std::vector<int64_t>(10, 600));
  EXPECT_EQ(m.field("image").shape, (std::vector<int64_t>{1, 28, 28}));
  // Published full-train-set figures: mean 0.2860, std 0.3530.
  EXPECT_NEAR(m.mean.at(0), 0.2860, 0.005);
  EXPECT_NEAR(m.std.at(0), 0.3530, 0.005);
  EXPECT_TRUE(data::verify(options.output).ok);
}

}  // namespace
}  // namespace strike
