// The data loader end to end on tiny shards: bytes delivered, order, ranks, errors, shutdown.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "core/error.h"
#include "tests/worker/loader_fixture.h"
#include "worker/loader/loader.h"

namespace strike::worker {
namespace {

using testdata::TinyDataset;

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testdata::make_temp_dir("loader"); }
  void TearDown() override { testdata::remove_dir(dir_); }

  LoaderOptions small(int64_t batch = 8) const {
    LoaderOptions o;
    o.batch_size = batch;
    o.block_bytes = 7 * 38;            // ~7 rows of 30 image bytes + 8 label bytes
    o.shuffle_window_bytes = 20 * 38;  // several windows
    return o;
  }
  std::vector<int64_t> epoch_indices(DataLoader& loader, int64_t epoch, int sleep_every = 0) {
    std::vector<int64_t> out;
    loader.start_epoch(epoch);
    Batch b;
    int n = 0;
    while (loader.next(b)) {
      auto idx = b.at("index");
      for (int64_t i = 0; i < b.size; ++i) out.push_back(idx[i].item<int64_t>());
      if (sleep_every && ++n % sleep_every == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return out;
  }

  std::string dir_;
};

TEST_F(LoaderTest, DeliversTheBytesWrittenForEachRow) {
  for (const char* label_dtype : {"int64", "int32"}) {
    TinyDataset spec;
    spec.label_dtype = label_dtype;
    testdata::write_dataset(dir_, spec);
    LoaderOptions o = small();
    o.normalize = false;
    DataLoader loader(dir_, "train", 0, 1, o);
    EXPECT_EQ(loader.steps_per_epoch(), 12);
    loader.start_epoch(0);
    Batch b;
    int64_t steps = 0;
    while (loader.next(b)) {
      ++steps;
      const auto image = b.at("image");
      ASSERT_EQ(image.scalar_type(), torch::kUInt8);
      ASSERT_EQ(image.sizes(), torch::IntArrayRef({8, 1, 6, 5}));
      ASSERT_EQ(b.at("label").scalar_type(), torch::kInt64);
      const uint8_t* px = image.data_ptr<uint8_t>();
      for (int64_t i = 0; i < b.size; ++i) {
        const int64_t row = b.at("index")[i].item<int64_t>();
        EXPECT_EQ(b.at("label")[i].item<int64_t>(), testdata::label_of(row, 10));
        for (int64_t j = 0; j < 30; ++j) ASSERT_EQ(px[i * 30 + j], testdata::pixel(row, j)) << "row " << row;
      }
    }
    EXPECT_EQ(steps, 12);
    testdata::remove_dir(dir_);
    dir_ = testdata::make_temp_dir("loader");
  }
}

TEST_F(LoaderTest, OrderMatchesThePlanWhateverTheThreadTiming) {
  testdata::write_dataset(dir_, {});
  LoaderOptions fast = small();
  fast.prefetch_batches = 8;
  LoaderOptions slow = small();
  slow.prefetch_batches = 1;
  DataLoader a(dir_, "train", 0, 1, fast);
  DataLoader b(dir_, "train", 0, 1, slow);
  const auto order = epoch_indices(a, 3);
  EXPECT_EQ(order, epoch_indices(b, 3, 2));
  EXPECT_EQ(order, a.sampler().delivered_rows(3));
  EXPECT_NE(order, epoch_indices(a, 4));
  std::set<int64_t> unique(order.begin(), order.end());
  EXPECT_EQ(unique.size(), order.size());
}

TEST_F(LoaderTest, EvaluationCoversEveryRowOnceAcrossRanks) {
  testdata::write_dataset(dir_, {});
  for (int world : {1, 2, 3}) {
    std::vector<int64_t> all;
    for (int rank = 0; rank < world; ++rank) {
      LoaderOptions o = small();
      o.shuffle = false;
      o.drop_last = false;
      DataLoader loader(dir_, "train", rank, world, o);
      loader.start_epoch(0);
      Batch b;
      int64_t steps = 0;
      while (loader.next(b)) {
        ++steps;
        EXPECT_EQ(b.at("image").size(0), b.size);
        for (int64_t i = 0; i < b.size; ++i) all.push_back(b.at("index")[i].item<int64_t>());
      }
      EXPECT_EQ(steps, loader.steps_per_epoch()) << "rank " << rank << " of " << world;
    }
    std::vector<int64_t> expected(100);
    for (int64_t i = 0; i < 100; ++i) expected[i] = i;
    EXPECT_EQ(all, expected) << "world " << world;
  }
}

TEST_F(LoaderTest, TrainingRanksRunEqualStepsOnDisjointRows) {
  testdata::write_dataset(dir_, {});
  std::set<int64_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    DataLoader loader(dir_, "train", rank, 3, small(4));
    auto rows = epoch_indices(loader, 2);
    EXPECT_EQ(static_cast<int64_t>(rows.size()), loader.steps_per_epoch() * 4);
    for (int64_t r : rows) EXPECT_TRUE(seen.insert(r).second) << r;
  }
}

TEST_F(LoaderTest, NormalizesWithTheManifestStatistics) {
  TinyDataset spec;
  spec.channels = 2;
  testdata::write_dataset(dir_, spec);
  DataLoader loader(dir_, "train", 0, 1, small());
  loader.start_epoch(0);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  const auto image = b.at("image");
  ASSERT_EQ(image.scalar_type(), torch::kFloat32);
  const float* px = image.data_ptr<float>();
  const auto& m = loader.manifest();
  for (int64_t i = 0; i < b.size; ++i) {
    const int64_t row = b.at("index")[i].item<int64_t>();
    for (int64_t j = 0; j < 60; ++j) {
      const int64_t c = j / 30;
      EXPECT_NEAR(px[i * 60 + j], (testdata::pixel(row, j) / 255.0 - m.mean[c]) / m.std[c], 1e-5);
    }
  }
}

TEST_F(LoaderTest, AugmentationIsDeterministicAndKeepsShape) {
  testdata::write_dataset(dir_, {});
  LoaderOptions o = small();
  o.augment = true;
  o.normalize = false;
  o.crop_padding = 0;  // flips only: each sample is its row or its row mirrored
  DataLoader a(dir_, "train", 0, 1, o);
  DataLoader b(dir_, "train", 0, 1, o);
  a.start_epoch(1);
  b.start_epoch(1);
  Batch x, y;
  int flipped = 0;
  while (a.next(x)) {
    ASSERT_TRUE(b.next(y));
    ASSERT_TRUE(torch::equal(x.at("image"), y.at("image")));
    ASSERT_EQ(x.at("image").sizes(), torch::IntArrayRef({8, 1, 6, 5}));
    const uint8_t* px = x.at("image").data_ptr<uint8_t>();
    for (int64_t i = 0; i < x.size; ++i) {
      const int64_t row = x.at("index")[i].item<int64_t>();
      bool same = true, mirrored = true;
      for (int64_t yy = 0; yy < 6; ++yy) {
        for (int64_t xx = 0; xx < 5; ++xx) {
          same &= px[i * 30 + yy * 5 + xx] == testdata::pixel(row, yy * 5 + xx);
          mirrored &= px[i * 30 + yy * 5 + xx] == testdata::pixel(row, yy * 5 + 4 - xx);
        }
      }
      EXPECT_TRUE(same || mirrored) << "row " << row;
      flipped += mirrored && !same;
    }
  }
  EXPECT_GT(flipped, 10);
  EXPECT_LT(flipped, 86);
}

TEST_F(LoaderTest, CorruptedShardIsNamed) {
  testdata::write_dataset(dir_, {});
  const std::string shard = dir_ + "/train-1.h5";
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::streamoff>(f.tellg());
    f.seekg(size - 100);
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(size - 100);
    f.write(&c, 1);
  }
  try {
    DataLoader loader(dir_, "train", 0, 1, small());
    FAIL() << "a damaged shard was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.where().find("train-1.h5"), std::string::npos) << e.where();
    EXPECT_NE(e.hint().find("strike data verify"), std::string::npos) << e.hint();
  }
}

TEST_F(LoaderTest, LabelOutOfRangeIsNamedOnTheCallersThread) {
  TinyDataset spec;
  spec.bad_label_row = 60;  // in train-1.h5
  testdata::write_dataset(dir_, spec);
  DataLoader loader(dir_, "train", 0, 1, small());
  loader.start_epoch(0);
  Batch b;
  try {
    while (loader.next(b)) {
    }
    FAIL() << "a label out of range was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.where().find("train-1.h5"), std::string::npos) << e.where();
    EXPECT_NE(std::string(e.what()).find("label 10"), std::string::npos) << e.what();
  }
}

TEST_F(LoaderTest, StoppingMidEpochDoesNotHang) {
  testdata::write_dataset(dir_, {});
  const auto t0 = std::chrono::steady_clock::now();
  for (int prefetch : {1, 2}) {
    LoaderOptions o = small(2);
    o.prefetch_batches = prefetch;
    DataLoader loader(dir_, "train", 0, 1, o);
    Batch b;
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next(b));
    loader.start_epoch(1);  // abandons epoch 0 while its thread waits on a full queue
    ASSERT_TRUE(loader.next(b));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }  // destroyed mid-epoch
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(LoaderTest, NextBeforeStartEpochIsAnError) {
  testdata::write_dataset(dir_, {});
  DataLoader loader(dir_, "train", 0, 1, small());
  Batch b;
  EXPECT_THROW(loader.next(b), Error);
}

}  // namespace
}  // namespace strike::worker
