// The loader's plan, checked without any I/O: determinism, equal steps, coverage, disjointness.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "worker/loader/sampler.h"

namespace strike::worker {
namespace {

const std::vector<int64_t> kShards = {37, 50, 13};  // 100 rows, uneven
constexpr int64_t kBytes = 30;

SamplerOptions train_options(int64_t batch = 8) {
  SamplerOptions o;
  o.batch_size = batch;
  o.block_bytes = 7 * kBytes;            // 7-row blocks: shard tails are short
  o.shuffle_window_bytes = 20 * kBytes;  // several windows per rank
  return o;
}

SamplerOptions eval_options(int64_t batch = 8) {
  SamplerOptions o = train_options(batch);
  o.shuffle = false;
  o.drop_last = false;
  return o;
}

TEST(Sampler, BlocksNeverCrossShards) {
  Sampler s(kShards, kBytes, 0, 1, train_options());
  EpochPlan p = s.plan(0);
  int64_t total = 0;
  for (const Block& b : p.blocks) {
    EXPECT_LE(b.count, 7);
    EXPECT_LE(b.start + b.count, kShards[b.shard]);
    total += b.count;
  }
  EXPECT_EQ(total, 100);
}

TEST(Sampler, SameCoordinatesSameOrder) {
  Sampler a(kShards, kBytes, 1, 3, train_options());
  Sampler b(kShards, kBytes, 1, 3, train_options());
  EXPECT_EQ(a.delivered_rows(4), b.delivered_rows(4));
}

TEST(Sampler, EpochAndSeedChangeOrder) {
  Sampler s(kShards, kBytes, 0, 1, train_options());
  EXPECT_NE(s.delivered_rows(0), s.delivered_rows(1));
  SamplerOptions o = train_options();
  o.seed = 99;
  EXPECT_NE(Sampler(kShards, kBytes, 0, 1, o).delivered_rows(0), s.delivered_rows(0));
}

TEST(Sampler, TrainingRanksRunEqualStepsOnDisjointRows) {
  for (int world : {1, 2, 3, 5}) {
    for (int64_t epoch : {0, 1, 7}) {
      std::set<int64_t> seen;
      int64_t steps = -1;
      for (int rank = 0; rank < world; ++rank) {
        Sampler s(kShards, kBytes, rank, world, train_options());
        if (steps < 0) steps = s.steps_per_epoch();
        EXPECT_EQ(s.steps_per_epoch(), steps) << "world " << world;
        EXPECT_GT(steps, 0) << "world " << world;
        std::vector<int64_t> rows = s.delivered_rows(epoch);
        EXPECT_EQ(static_cast<int64_t>(rows.size()), steps * 8);
        for (int64_t r : rows) {
          EXPECT_TRUE(r >= 0 && r < 100);
          EXPECT_TRUE(seen.insert(r).second) << "row " << r << " twice, world " << world;
        }
      }
    }
  }
}

// N ranks with batch B together train on exactly the global batches one rank sees with batch N*B.
TEST(Sampler, TrainingOrderDoesNotDependOnWorldSize) {
  constexpr int64_t B = 4;
  for (int world : {2, 3, 5}) {
    for (int64_t epoch : {0, 3}) {
      std::vector<int64_t> one = Sampler(kShards, kBytes, 0, 1, train_options(B * world)).delivered_rows(epoch);
      std::vector<std::vector<int64_t>> ranks;
      for (int rank = 0; rank < world; ++rank) {
        ranks.push_back(Sampler(kShards, kBytes, rank, world, train_options(B)).delivered_rows(epoch));
      }
      std::vector<int64_t> interleaved;
      for (size_t step = 0; step * B < ranks[0].size(); ++step) {
        for (const auto& rows : ranks) interleaved.insert(interleaved.end(), rows.begin() + step * B, rows.begin() + (step + 1) * B);
      }
      EXPECT_EQ(interleaved, one) << "world " << world << " epoch " << epoch;
    }
  }
}

TEST(Sampler, ShufflesWithinWindows) {
  Sampler s(kShards, kBytes, 0, 1, train_options(1));
  std::vector<int64_t> rows = s.delivered_rows(0);
  EXPECT_FALSE(std::is_sorted(rows.begin(), rows.end()));
  EXPECT_EQ(rows.size(), 100u);  // batch 1 drops nothing on one rank
}

TEST(Sampler, EvaluationCoversEveryRowOnceInOrder) {
  for (int world : {1, 2, 3}) {
    std::vector<int64_t> all;
    int64_t steps = -1;
    for (int rank = 0; rank < world; ++rank) {
      Sampler s(kShards, kBytes, rank, world, eval_options());
      if (steps < 0) steps = s.steps_per_epoch();
      EXPECT_EQ(s.steps_per_epoch(), steps);
      std::vector<int64_t> rows = s.delivered_rows(0);
      EXPECT_LE(static_cast<int64_t>(rows.size()), steps * 8);
      EXPECT_GT(static_cast<int64_t>(rows.size()), (steps - 1) * 8);
      EXPECT_EQ(rows, s.delivered_rows(3));  // evaluation order ignores the epoch
      all.insert(all.end(), rows.begin(), rows.end());
    }
    std::vector<int64_t> expected(100);
    for (int64_t i = 0; i < 100; ++i) expected[i] = i;
    EXPECT_EQ(all, expected) << "world " << world;
  }
}

TEST(Sampler, SmallSplitStillGivesEveryRankWork) {
  SamplerOptions o = train_options(4);
  o.block_bytes = 1 << 20;  // one block would hold the whole split
  for (int rank = 0; rank < 2; ++rank) EXPECT_GT(Sampler({40}, kBytes, rank, 2, o).steps_per_epoch(), 0);
}

TEST(Sampler, RejectsBadCoordinates) {
  EXPECT_ANY_THROW(Sampler(kShards, kBytes, 2, 2, train_options()));
  EXPECT_ANY_THROW(Sampler(kShards, kBytes, 0, 1, train_options(0)));
}

}  // namespace
}  // namespace strike::worker
