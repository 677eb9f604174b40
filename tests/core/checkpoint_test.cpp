// Checkpoint round trip, atomic write and incompleteness detection.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/checkpoint.h"
#include "core/error.h"
#include "core/fs.h"
#include "tests/core/test_dir.h"
#include "core/h5.h"

namespace fs = std::filesystem;
using namespace strike;

namespace {
core::Checkpoint sample() {
  core::Checkpoint c;
  c.model = {{"backbone.conv1.weight", torch::randn({4, 1, 3, 3})},
             {"backbone.bn1.num_batches_tracked", torch::tensor(7, torch::kInt64)},
             {"head.bias", torch::randn({10}, torch::kFloat64)},
             {"a.half", torch::ones({2}, torch::kHalf)}};
  c.optimizer = {{"exp_avg", torch::randn({50})}};
  c.optimizer_meta = {{"name", "adamw"}, {"step", 12}};
  c.scheduler = {{"step", 12}};
  c.trainer = {{"epoch", 2}, {"rows", {1, 2, 3}}};
  c.rng_state = torch::arange(0, 100, torch::kUInt8);
  c.config = "backbone: small_cnn\nlr: 0.001\n";
  c.manifest = {{"task", "image_classification"}};
  c.manifest_hash = "crc32:12345678";
  return c;
}
}  // namespace

TEST(Checkpoint, RoundTripKeepsNamesOrderValuesAndMetadata) {
  auto dir = fresh_test_dir("strike-ckpt");
  auto path = (dir / "c.h5").string();
  auto c = sample();
  core::save_checkpoint(c, path);
  auto r = core::load_checkpoint(path);
  ASSERT_EQ(r.model.size(), c.model.size());
  for (size_t i = 0; i < c.model.size(); ++i) {
    EXPECT_EQ(r.model[i].first, c.model[i].first);  // state_dict order survives HDF5's sorted listing
    EXPECT_TRUE(torch::equal(r.model[i].second.to(torch::kFloat64), c.model[i].second.to(torch::kFloat64)));
  }
  EXPECT_EQ(r.model[1].second.scalar_type(), torch::kInt64);
  EXPECT_EQ(r.model[2].second.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(r.optimizer[0].second, c.optimizer[0].second));
  EXPECT_EQ(r.optimizer_meta, c.optimizer_meta);
  EXPECT_EQ(r.trainer, c.trainer);
  EXPECT_EQ(r.config, c.config);
  EXPECT_EQ(r.manifest, c.manifest);
  EXPECT_EQ(r.manifest_hash, c.manifest_hash);
  EXPECT_TRUE(torch::equal(r.rng_state, c.rng_state));
  EXPECT_TRUE(core::is_complete_checkpoint(path));
  // No temporary file is left beside it.
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  strike::core::remove_tree(dir.string());
}

TEST(Checkpoint, TruncatedFileIsRejectedWithItsPath) {
  auto dir = fresh_test_dir("strike-ckpt");
  auto path = (dir / "c.h5").string();
  core::save_checkpoint(sample(), path);
  fs::resize_file(path, fs::file_size(path) / 2);
  EXPECT_FALSE(core::is_complete_checkpoint(path));
  try {
    core::load_checkpoint(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  strike::core::remove_tree(dir.string());
}

TEST(Checkpoint, FileWithoutCompleteMarkIsNotUsed) {
  auto dir = fresh_test_dir("strike-ckpt");
  auto path = (dir / "c.h5").string();
  {
    auto f = h5::File::create(path);
    f.set_attr("/", "format_version", int64_t{1});
  }
  EXPECT_FALSE(core::is_complete_checkpoint(path));
  EXPECT_THROW(core::load_checkpoint(path), Error);
  EXPECT_FALSE(core::is_complete_checkpoint((dir / "missing.h5").string()));
  strike::core::remove_tree(dir.string());
}
