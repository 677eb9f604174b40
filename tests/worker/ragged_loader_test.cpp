// The data loader on text datasets: ragged rows padded per batch, lengths, bucketing, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/manifest.h"
#include "core/shard.h"
#include "tests/worker/loader_fixture.h"
#include "worker/loader/loader.h"

namespace strike::worker {
namespace {

using testdata::TinyTextDataset;

// What a batch held, copied out so that batches can be compared after the loader moved on.
struct Seen {
  std::vector<int64_t> index;
  int64_t width = 0;  // L of tokens [B, L]
};

class RaggedLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testdata::make_temp_dir("ragged"); }
  void TearDown() override { testdata::remove_dir(dir_); }

  // About 88 bytes a row (20 int32 tokens on average + an int64 label): blocks of ~16 rows, windows
  // of ~250, so an epoch spans several windows and a pool of 50 batches covers a whole window.
  static LoaderOptions options(int64_t batch = 8, int64_t bucket_batches = 50) {
    LoaderOptions o;
    o.batch_size = batch;
    o.block_bytes = 16 * 88;
    o.shuffle_window_bytes = 250 * 88;
    o.bucket_batches = bucket_batches;
    return o;
  }

  // Every row of the split, read straight from the shards.
  std::vector<std::vector<int64_t>> shard_rows(const TinyTextDataset& spec) const {
    const core::Manifest m = core::Manifest::load(dir_);
    std::vector<std::vector<int64_t>> rows;
    for (const auto& shard : m.split("train").shards) {
      core::ShardReader reader((std::filesystem::path(dir_) / shard.file).string(), m.fields);
      std::vector<int64_t> offsets;
      std::vector<uint8_t> bytes;
      reader.read_ragged(m.field("tokens"), 0, reader.rows(), offsets, bytes);
      for (int64_t r = 0; r < reader.rows(); ++r) {
        std::vector<int64_t> row;
        for (int64_t k = offsets[r]; k < offsets[r + 1]; ++k) {
          int32_t v;
          std::memcpy(&v, bytes.data() + k * sizeof v, sizeof v);
          row.push_back(v);
        }
        rows.push_back(row);
      }
    }
    EXPECT_EQ(static_cast<int64_t>(rows.size()), spec.shard_rows[0] + spec.shard_rows[1] + spec.shard_rows[2]);
    return rows;
  }

  static std::vector<Seen> epoch(DataLoader& loader, int64_t e) {
    std::vector<Seen> out;
    loader.start_epoch(e);
    Batch b;
    while (loader.next(b)) {
      Seen s;
      for (int64_t i = 0; i < b.size; ++i) s.index.push_back(b.at("index")[i].item<int64_t>());
      s.width = b.at("tokens").size(1);
      out.push_back(s);
    }
    return out;
  }
  static std::vector<int64_t> indices(const std::vector<Seen>& batches) {
    std::vector<int64_t> out;
    for (const auto& s : batches) out.insert(out.end(), s.index.begin(), s.index.end());
    return out;
  }

  std::string dir_;
};

TEST_F(RaggedLoaderTest, RowsArePaddedToTheLongestInTheirBatch) {
  for (int64_t pad_id : {-1, 7}) {  // absent from the manifest (pad with 0), or recorded
    TinyTextDataset spec;
    spec.pad_id = pad_id;
    testdata::write_text_dataset(dir_, spec);
    const auto rows = shard_rows(spec);
    const int64_t pad = pad_id < 0 ? 0 : pad_id;
    for (bool shuffle : {true, false}) {
      LoaderOptions o = options();
      o.shuffle = shuffle;
      o.drop_last = shuffle;
      DataLoader loader(dir_, "train", 0, 1, o);
      loader.start_epoch(1);
      Batch b;
      int64_t delivered = 0;
      while (loader.next(b)) {
        const auto tokens = b.at("tokens");
        const auto length = b.at("tokens_length");
        ASSERT_EQ(tokens.scalar_type(), torch::kInt64);
        ASSERT_EQ(length.scalar_type(), torch::kInt64);
        ASSERT_EQ(tokens.dim(), 2);
        ASSERT_EQ(tokens.size(0), b.size);
        ASSERT_EQ(length.sizes(), torch::IntArrayRef({b.size}));
        int64_t longest = 1;
        for (int64_t i = 0; i < b.size; ++i) {
          const auto& row = rows[b.at("index")[i].item<int64_t>()];
          ASSERT_EQ(length[i].item<int64_t>(), static_cast<int64_t>(row.size()));
          longest = std::max<int64_t>(longest, row.size());
          const int64_t* t = tokens[i].contiguous().data_ptr<int64_t>();
          for (int64_t j = 0; j < tokens.size(1); ++j) {
            ASSERT_EQ(t[j], j < static_cast<int64_t>(row.size()) ? row[j] : pad) << "position " << j;
          }
        }
        EXPECT_EQ(tokens.size(1), longest);
        EXPECT_EQ(b.at("label").sizes(), torch::IntArrayRef({b.size}));
        delivered += b.size;
      }
      EXPECT_EQ(delivered, shuffle ? loader.steps_per_epoch() * 8 : 1000);
    }
    testdata::remove_dir(dir_);
    dir_ = testdata::make_temp_dir("ragged");
  }
}

TEST_F(RaggedLoaderTest, EvaluationKeepsTheSplitOrder) {
  testdata::write_text_dataset(dir_, {});
  for (int world : {1, 3}) {
    std::vector<int64_t> all;
    for (int rank = 0; rank < world; ++rank) {
      LoaderOptions o = options();
      o.shuffle = false;
      o.drop_last = false;
      DataLoader loader(dir_, "train", rank, world, o);
      const auto got = indices(epoch(loader, 0));
      all.insert(all.end(), got.begin(), got.end());
    }
    std::vector<int64_t> expected(1000);
    for (int64_t i = 0; i < 1000; ++i) expected[i] = i;
    EXPECT_EQ(all, expected) << "world " << world;
  }
}

TEST_F(RaggedLoaderTest, BucketingDeliversEveryRowOncePerEpoch) {
  testdata::write_text_dataset(dir_, {});
  std::vector<int64_t> lengths(1000);
  for (int64_t r = 0; r < 1000; ++r) lengths[r] = testdata::token_length(r, 40);
  for (int world : {1, 3}) {
    for (int64_t e : {0, 1}) {
      std::set<int64_t> seen;
      for (int rank = 0; rank < world; ++rank) {
        DataLoader loader(dir_, "train", rank, world, options());
        const auto got = indices(epoch(loader, e));
        EXPECT_EQ(static_cast<int64_t>(got.size()), loader.steps_per_epoch() * 8);
        EXPECT_EQ(got, loader.sampler().delivered_rows(e, lengths)) << "rank " << rank;
        for (int64_t r : got) EXPECT_TRUE(seen.insert(r).second) << "row " << r << " twice";
      }
      EXPECT_GT(static_cast<int64_t>(seen.size()), 1000 - 8 * world);  // only drop_last's tail is missing
    }
  }
  // Without drop_last, every single row.
  LoaderOptions o = options(7);
  o.drop_last = false;
  DataLoader loader(dir_, "train", 0, 1, o);
  auto got = indices(epoch(loader, 2));
  std::sort(got.begin(), got.end());
  std::vector<int64_t> expected(1000);
  for (int64_t i = 0; i < 1000; ++i) expected[i] = i;
  EXPECT_EQ(got, expected);
}

TEST_F(RaggedLoaderTest, BucketingPadsFarLess) {
  testdata::write_text_dataset(dir_, {});
  auto cells = [&](int64_t bucket_batches) {
    DataLoader loader(dir_, "train", 0, 1, options(8, bucket_batches));
    int64_t total = 0;
    for (const Seen& s : epoch(loader, 0)) total += static_cast<int64_t>(s.index.size()) * s.width;
    return total;
  };
  const int64_t plain = cells(0), bucketed = cells(50);
  // Rows of length 0..40 in random batches of 8 pad to ~36; sorted ones to little more than their own.
  EXPECT_LT(bucketed, plain * 7 / 10) << "bucketed " << bucketed << ", plain " << plain;
}

// N ranks with batch B see exactly the global batches one rank sees with batch N*B, bucketing included.
TEST_F(RaggedLoaderTest, BucketedBatchesDoNotDependOnWorldSize) {
  testdata::write_text_dataset(dir_, {});
  for (int64_t e : {0, 3}) {
    DataLoader one(dir_, "train", 0, 1, options(8));
    const auto single = epoch(one, e);
    std::vector<std::vector<Seen>> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      DataLoader loader(dir_, "train", rank, 2, options(4));
      ranks.push_back(epoch(loader, e));
    }
    ASSERT_EQ(ranks[0].size(), single.size());
    ASSERT_EQ(ranks[1].size(), single.size());
    for (size_t step = 0; step < single.size(); ++step) {
      std::vector<int64_t> global = ranks[0][step].index;
      global.insert(global.end(), ranks[1][step].index.begin(), ranks[1][step].index.end());
      ASSERT_EQ(global, single[step].index) << "epoch " << e << " step " << step;
    }
  }
}

TEST_F(RaggedLoaderTest, BucketedOrderIsAPureFunctionOfSeedAndEpoch) {
  testdata::write_text_dataset(dir_, {});
  DataLoader a(dir_, "train", 0, 1, options());
  DataLoader b(dir_, "train", 0, 1, options());
  const auto first = indices(epoch(a, 5));
  EXPECT_EQ(first, indices(epoch(b, 5)));
  EXPECT_NE(first, indices(epoch(a, 6)));
  LoaderOptions reseeded = options();
  reseeded.seed = 1;
  DataLoader c(dir_, "train", 0, 1, reseeded);
  EXPECT_NE(first, indices(epoch(c, 5)));
}

TEST_F(RaggedLoaderTest, EmptyEvaluationBatchesKeepTheRaggedFields) {
  TinyTextDataset spec;
  spec.shard_rows = {2, 2, 1};  // 5 rows on 4 ranks: ranks 0-2 end with an empty batch
  testdata::write_text_dataset(dir_, spec);
  LoaderOptions o = options(1);
  o.shuffle = false;
  o.drop_last = false;
  DataLoader loader(dir_, "train", 0, 4, o);
  ASSERT_EQ(loader.steps_per_epoch(), 2);
  loader.start_epoch(0);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.size, 1);
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.size, 0);
  EXPECT_EQ(b.at("tokens").sizes(), torch::IntArrayRef({0, 1}));
  EXPECT_EQ(b.at("tokens").scalar_type(), torch::kInt64);
  EXPECT_EQ(b.at("tokens_length").sizes(), torch::IntArrayRef({0}));
  EXPECT_EQ(b.at("tokens_length").scalar_type(), torch::kInt64);
  EXPECT_EQ(b.at("label").sizes(), torch::IntArrayRef({0}));
  EXPECT_EQ(b.at("index").sizes(), torch::IntArrayRef({0}));
  EXPECT_FALSE(loader.next(b));
}

TEST_F(RaggedLoaderTest, BlocksAndWindowsCountTheAverageRowBytes) {
  TinyTextDataset spec;
  testdata::write_text_dataset(dir_, spec);
  int64_t values = 0;
  for (const auto& row : shard_rows(spec)) values += static_cast<int64_t>(row.size());
  const int64_t row_bytes = (values * 4 + 999) / 1000 + 8;  // int32 tokens on average, plus the label
  LoaderOptions o = options();
  o.block_bytes = 10 * row_bytes;
  DataLoader loader(dir_, "train", 0, 1, o);
  EXPECT_EQ(loader.sampler().block_rows(), 10);
  const EpochPlan plan = loader.sampler().plan(0);
  for (const Window& w : plan.windows) EXPECT_LE(w.rows, o.shuffle_window_bytes / row_bytes);
  EXPECT_GT(plan.windows.size(), 3u);
}

TEST_F(RaggedLoaderTest, DamagedOffsetsAreNamedOnTheCallersThread) {
  TinyTextDataset spec;
  spec.damaged_offsets_shard = 1;
  testdata::write_text_dataset(dir_, spec);
  DataLoader loader(dir_, "train", 0, 1, options());  // opening checks only the first and last offsets
  loader.start_epoch(0);
  Batch b;
  try {
    while (loader.next(b)) {
    }
    FAIL() << "decreasing offsets were accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.where().find("train-1.h5"), std::string::npos) << e.where();
    EXPECT_NE(std::string(e.what()).find("tokens_offsets"), std::string::npos) << e.what();
  }
}

TEST_F(RaggedLoaderTest, RaggedFloatFieldIsRefused) {
  testdata::write_text_dataset(dir_, {});
  core::Manifest m = core::Manifest::load(dir_);
  m.fields[0].dtype = "float32";  // refused before any shard is opened
  m.save(dir_);
  EXPECT_THROW(DataLoader(dir_, "train", 0, 1, options()), UsageError);
}

}  // namespace
}  // namespace strike::worker
