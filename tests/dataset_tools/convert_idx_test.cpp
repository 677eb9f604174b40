// Converting a synthetic IDX set: manifest contents, counts, checksums, shuffling, statistics.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

#include "core/checksum.h"
#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/converter.h"
#include "test_util.h"

namespace strike {
namespace {

namespace fs = std::filesystem;

struct SplitData {
  std::vector<uint8_t> images;
  std::vector<int64_t> labels;
};

SplitData read_split(const core::Manifest& m, const std::string& dir, const std::string& split) {
  SplitData out;
  for (const auto& shard : m.split(split).shards) {
    core::ShardReader reader(dir + "/" + shard.file, m.fields);
    size_t old_images = out.images.size(), old_labels = out.labels.size();
    out.images.resize(old_images + reader.rows() * m.field("image").sample_bytes());
    out.labels.resize(old_labels + reader.rows());
    reader.read(m.field("image"), 0, reader.rows(), out.images.data() + old_images);
    reader.read(m.field("label"), 0, reader.rows(), out.labels.data() + old_labels);
  }
  return out;
}

class ConvertIdx : public ::testing::Test {
 protected:
  void SetUp() override {
    set_ = test::make_idx_set(200, 50, 6, 5, 10);
    test::write_idx_set(set_, input_.path(), true);
    options_.input = input_.path();
    options_.output = output_ / "ds";
    options_.shards = 3;
    options_.seed = 7;
  }
  test::TempDir input_, output_;
  test::IdxSet set_;
  data::ConvertOptions options_;
};

TEST_F(ConvertIdx, WritesManifestAndShards) {
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.task, "image_classification");
  EXPECT_EQ(m.source, "idx");
  ASSERT_EQ(m.fields.size(), 2u);
  EXPECT_EQ(m.field("image").dtype, "uint8");
  EXPECT_EQ(m.field("image").shape, (std::vector<int64_t>{1, 6, 5}));
  EXPECT_EQ(m.field("label").dtype, "int64");
  EXPECT_TRUE(m.field("label").shape.empty());
  EXPECT_EQ(m.class_names.size(), 10u);
  EXPECT_EQ(m.split("train").samples, 180);
  EXPECT_EQ(m.split("val").samples, 20);
  EXPECT_EQ(m.split("test").samples, 50);
  ASSERT_EQ(m.split("train").shards.size(), 3u);
  EXPECT_EQ(m.split("val").shards.size(), 1u);
  EXPECT_EQ(m.split("train").shards[0].file, "train-00000-of-00003.h5");
  for (const auto& shard : m.split("train").shards) EXPECT_EQ(shard.samples, 60);
  EXPECT_EQ(m.extra["seed"], 7);
  EXPECT_EQ(m.extra["class_counts"]["val"], std::vector<int64_t>(10, 2));

  // The manifest on disk is the one returned; every checksum matches its file.
  core::Manifest loaded = core::Manifest::load(options_.output);
  EXPECT_EQ(loaded.to_json(), m.to_json());
  for (const auto& split : m.splits) {
    for (const auto& shard : split.shards) {
      std::string path = options_.output + "/" + shard.file;
      EXPECT_EQ(core::file_checksum(path), shard.checksum);
      EXPECT_EQ(static_cast<int64_t>(fs::file_size(path)), shard.bytes);
    }
  }
  // No temporary files are left behind.
  for (const auto& entry : fs::directory_iterator(options_.output)) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(ConvertIdx, RowsAreSourceSamplesWithTheirLabelsInMixedOrder) {
  core::Manifest m = data::convert(options_);
  std::set<int64_t> seen_train;
  for (const std::string split : {"train", "val", "test"}) {
    SplitData d = read_split(m, options_.output, split);
    const auto& images = split == "test" ? set_.test_images : set_.train_images;
    const auto& labels = split == "test" ? set_.test_labels : set_.train_labels;
    for (size_t r = 0; r < d.labels.size(); ++r) {
      const uint8_t* row = d.images.data() + r * 30;
      int64_t i = row[0] + 256 * row[1];
      ASSERT_TRUE(std::equal(row, row + 30, images.begin() + i * 30)) << split << " row " << r;
      EXPECT_EQ(d.labels[r], labels[i]);
      if (split != "test") EXPECT_TRUE(seen_train.insert(i).second) << "sample " << i << " written twice";
    }
  }
  EXPECT_EQ(seen_train.size(), 200u);
  // Shuffled: the first shard mixes classes rather than holding a sorted run.
  SplitData train = read_split(m, options_.output, "train");
  std::set<int64_t> first_shard_classes(train.labels.begin(), train.labels.begin() + 60);
  EXPECT_EQ(first_shard_classes.size(), 10u);
  EXPECT_FALSE(std::is_sorted(train.labels.begin(), train.labels.end()));
}

TEST_F(ConvertIdx, StatisticsMatchTheTrainSplit) {
  core::Manifest m = data::convert(options_);
  SplitData train = read_split(m, options_.output, "train");
  double sum = 0, sum_sq = 0;
  for (uint8_t v : train.images) {
    sum += v / 255.0;
    sum_sq += (v / 255.0) * (v / 255.0);
  }
  const double n = static_cast<double>(train.images.size());
  const double mean = sum / n, std = std::sqrt(sum_sq / n - mean * mean);
  ASSERT_EQ(m.mean.size(), 1u);
  EXPECT_NEAR(m.mean[0], mean, 1e-9);
  EXPECT_NEAR(m.std[0], std, 1e-9);
}

TEST_F(ConvertIdx, SameSeedSameBytesOtherSeedOtherSplit) {
  core::Manifest a = data::convert(options_);
  options_.overwrite = true;
  // A second later: HDF5 would stamp modification times (1 s resolution) into the shards otherwise.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  core::Manifest b = data::convert(options_);
  EXPECT_EQ(a.to_json(), b.to_json());
  options_.seed = 8;
  core::Manifest c = data::convert(options_);
  EXPECT_NE(a.split("train").shards[0].checksum, c.split("train").shards[0].checksum);
}

TEST_F(ConvertIdx, ResizesAndExpandsChannelsOnRequest) {
  options_.image_size = 8;
  options_.channels = 3;
  options_.val_fraction = 0;
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.field("image").shape, (std::vector<int64_t>{3, 8, 8}));
  EXPECT_FALSE(m.has_split("val"));
  EXPECT_EQ(m.split("train").samples, 200);
  EXPECT_EQ(m.mean.size(), 3u);
  EXPECT_DOUBLE_EQ(m.mean[0], m.mean[2]);
}

TEST_F(ConvertIdx, RefusesNonEmptyOutputWithoutOverwrite) {
  data::convert(options_);
  try {
    data::convert(options_);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos) << e.what();
  }
  // --overwrite replaces the dataset but keeps files strike did not write.
  test::write_bytes(options_.output + "/notes.txt", {'h', 'i'});
  test::write_bytes(options_.output + "/.index.val.staging", {0, 0});  // left by a killed text conversion
  options_.overwrite = true;
  options_.shards = 2;
  core::Manifest m = data::convert(options_);
  EXPECT_TRUE(fs::exists(options_.output + "/notes.txt"));
  EXPECT_FALSE(fs::exists(options_.output + "/.index.val.staging"));
  EXPECT_FALSE(fs::exists(options_.output + "/train-00000-of-00003.h5"));
  EXPECT_TRUE(fs::exists(options_.output + "/train-00000-of-00002.h5"));
}

TEST_F(ConvertIdx, BadOptionsAreUsageErrors) {
  auto bad = [&](auto change) {
    data::ConvertOptions o = options_;
    change(o);
    EXPECT_THROW(data::convert(o), UsageError);
  };
  bad([](auto& o) { o.shards = 0; });
  bad([](auto& o) { o.val_fraction = 1.2; });
  bad([](auto& o) { o.val_fraction = 0.6; o.test_fraction = 0.5; });
  bad([](auto& o) { o.channels = 2; });
  bad([](auto& o) { o.image_size = -1; });
  bad([](auto& o) { o.source = "csv"; });
  bad([](auto& o) { o.output = ""; });
  bad([&](auto& o) { o.output = input_ / "inside"; });
  EXPECT_FALSE(fs::exists(options_.output));
}

TEST_F(ConvertIdx, BadInputLeavesNoDataset) {
  data::ConvertOptions o = options_;
  o.input = input_ / "does-not-exist";
  try {
    data::convert(o);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does-not-exist"), std::string::npos) << e.what();
  }
  // A damaged file is found before any shard is written; there is never a manifest.
  auto bytes = test::read_bytes(input_ / "t10k-labels-idx1-ubyte.gz");
  test::write_bytes(input_ / "t10k-labels-idx1-ubyte.gz", {bytes.begin(), bytes.begin() + 10});
  EXPECT_THROW(data::convert(options_), Error);
  EXPECT_FALSE(fs::exists(options_.output + "/manifest.json"));
}

}  // namespace
}  // namespace strike
