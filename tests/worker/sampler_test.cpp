// The loader's plan, checked without any I/O: determinism, equal steps, coverage, disjointness.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/rng.h"
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
  SamplerOptions o = train_options();
  o.bucket_batches = -1;
  EXPECT_ANY_THROW(Sampler(kShards, kBytes, 0, 1, o));
}

// Row lengths with a wide spread, a pure function of the row.
std::vector<int64_t> spread_lengths(int64_t rows) {
  std::vector<int64_t> lengths(rows);
  for (int64_t r = 0; r < rows; ++r) lengths[r] = static_cast<int64_t>(core::mix64(r) % 100);
  return lengths;
}

TEST(Bucketing, SortsPoolsOfWholeGlobalBatchesAndKeepsTheEnds) {
  // 30 rows from stream position 3 with global batches of 4: position 0 ends the batch begun in
  // the previous window, 7 whole batches follow (pools of 3, 3, 1), position 29 begins the next.
  std::vector<int64_t> order(30);
  for (int64_t i = 0; i < 30; ++i) order[i] = (i * 7) % 30;  // a permutation, not sorted
  const std::vector<int64_t> lengths = spread_lengths(30);
  std::vector<int64_t> bucketed = order;
  bucket_by_length(bucketed, lengths, 3, 4, 3, 0, 0, 0);
  EXPECT_EQ(bucketed[0], order[0]);
  EXPECT_EQ(bucketed[29], order[29]);
  for (const auto& [begin, end] : std::vector<std::pair<int, int>>{{1, 13}, {13, 25}, {25, 29}}) {
    std::multiset<int64_t> before(order.begin() + begin, order.begin() + end);
    std::multiset<int64_t> after(bucketed.begin() + begin, bucketed.begin() + end);
    EXPECT_EQ(before, after) << "pool [" << begin << ", " << end << ")";
    // Each global batch of the pool is a run of the pool's lengths in sorted order.
    std::vector<std::pair<int64_t, int64_t>> ranges;  // (shortest, longest) of each batch
    for (int b = begin; b < end; b += 4) {
      int64_t lo = 1 << 30, hi = -1;
      for (int i = b; i < b + 4; ++i) {
        lo = std::min(lo, lengths[bucketed[i]]);
        hi = std::max(hi, lengths[bucketed[i]]);
      }
      ranges.push_back({lo, hi});
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t k = 1; k < ranges.size(); ++k) EXPECT_LE(ranges[k - 1].second, ranges[k].first);
  }
  std::vector<int64_t> off = order;
  bucket_by_length(off, lengths, 3, 4, 0, 0, 0, 0);  // pool of 0 batches: off
  EXPECT_EQ(off, order);
  EXPECT_ANY_THROW(bucket_by_length(off, std::vector<int64_t>(29), 3, 4, 3, 0, 0, 0));
}

TEST(Bucketing, BatchOrderOfAPoolIsSeeded) {
  std::vector<int64_t> order(400);
  for (int64_t i = 0; i < 400; ++i) order[i] = (i * 37) % 400;
  const std::vector<int64_t> lengths = spread_lengths(400);
  auto bucketed = [&](uint64_t seed, int64_t epoch, int64_t window) {
    std::vector<int64_t> v = order;
    bucket_by_length(v, lengths, 0, 8, 50, seed, epoch, window);
    return v;
  };
  EXPECT_EQ(bucketed(1, 2, 3), bucketed(1, 2, 3));
  EXPECT_NE(bucketed(1, 2, 3), bucketed(2, 2, 3));
  EXPECT_NE(bucketed(1, 2, 3), bucketed(1, 3, 3));
  EXPECT_NE(bucketed(1, 2, 3), bucketed(1, 2, 4));
  // Not sorted from short to long across the pool: the batches are shuffled.
  std::vector<int64_t> firsts;
  const auto v = bucketed(1, 2, 3);
  for (size_t b = 0; b < 400; b += 8) firsts.push_back(lengths[v[b]]);
  EXPECT_FALSE(std::is_sorted(firsts.begin(), firsts.end()));
}

TEST(Bucketing, TrainingStaysWorldIndependentAndCoversEveryRowOnce) {
  constexpr int64_t B = 4;
  const std::vector<int64_t> lengths = spread_lengths(100);
  for (int world : {2, 3}) {
    for (int64_t epoch : {0, 3}) {
      SamplerOptions wide = train_options(B * world);
      wide.bucket_batches = 2;
      SamplerOptions narrow = train_options(B);
      narrow.bucket_batches = 2;
      std::vector<int64_t> one = Sampler(kShards, kBytes, 0, 1, wide).delivered_rows(epoch, lengths);
      EXPECT_NE(one, Sampler(kShards, kBytes, 0, 1, wide).delivered_rows(epoch)) << "bucketing changed nothing";
      std::vector<std::vector<int64_t>> ranks;
      std::set<int64_t> seen;
      for (int rank = 0; rank < world; ++rank) {
        ranks.push_back(Sampler(kShards, kBytes, rank, world, narrow).delivered_rows(epoch, lengths));
        for (int64_t r : ranks.back()) EXPECT_TRUE(seen.insert(r).second) << "row " << r << " twice";
      }
      std::vector<int64_t> interleaved;
      for (size_t step = 0; step * B < ranks[0].size(); ++step) {
        for (const auto& rows : ranks) interleaved.insert(interleaved.end(), rows.begin() + step * B, rows.begin() + (step + 1) * B);
      }
      EXPECT_EQ(interleaved, one) << "world " << world << " epoch " << epoch;
    }
  }
}

TEST(Bucketing, EvaluationIgnoresLengths) {
  const std::vector<int64_t> lengths = spread_lengths(100);
  for (int rank = 0; rank < 2; ++rank) {
    Sampler s(kShards, kBytes, rank, 2, eval_options());
    EXPECT_EQ(s.delivered_rows(0, lengths), s.delivered_rows(0));
  }
}

}  // namespace
}  // namespace strike::worker
