// The loader's plan: blocks dealt to ranks, windows shuffled, equal step counts on every rank.
#include "worker/loader/sampler.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/rng.h"

namespace strike::worker {

namespace {
constexpr uint64_t kBlockStream = 0x426c6f636bULL;  // "Block": the epoch's block permutation

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

Sampler::Sampler(std::vector<int64_t> shard_rows, int64_t bytes_per_sample, int rank, int world_size,
                 SamplerOptions options)
    : shard_rows_(std::move(shard_rows)),
      bytes_per_sample_(bytes_per_sample),
      rank_(rank),
      world_(world_size),
      options_(options) {
  require(world_ >= 1 && rank_ >= 0 && rank_ < world_,
          "rank " + std::to_string(rank_) + " is outside world size " + std::to_string(world_));
  require(options_.batch_size > 0, "batch size must be positive, got " + std::to_string(options_.batch_size));
  require(bytes_per_sample_ > 0, "samples must have a positive size");
  for (int64_t r : shard_rows_) total_rows_ += r;

  // A split smaller than a few blocks per rank would leave ranks empty, so small splits get small blocks.
  block_rows_ = std::max<int64_t>(1, options_.block_bytes / bytes_per_sample_);
  if (total_rows_ > 0) block_rows_ = std::max<int64_t>(1, std::min(block_rows_, ceil_div(total_rows_, 4 * world_)));

  const int64_t B = options_.batch_size;
  if (options_.shuffle) {
    // Which blocks a rank gets changes every epoch; bound over every permutation instead, so the
    // count is the same each epoch and on each rank (one rank holds at least n/world blocks).
    std::vector<int64_t> sizes;
    for (const Block& b : all_blocks()) sizes.push_back(b.count);
    std::sort(sizes.begin(), sizes.end());
    const int64_t n = static_cast<int64_t>(sizes.size());
    if (options_.drop_last) {
      int64_t fewest = std::accumulate(sizes.begin(), sizes.begin() + n / world_, int64_t{0});
      steps_ = fewest / B;
    } else {
      int64_t most = std::accumulate(sizes.end() - ceil_div(n, world_), sizes.end(), int64_t{0});
      steps_ = ceil_div(most, B);
    }
  } else {
    steps_ = options_.drop_last ? (total_rows_ / world_) / B : ceil_div(ceil_div(total_rows_, world_), B);
  }
}

std::vector<Block> Sampler::all_blocks() const {
  std::vector<Block> blocks;
  int64_t split_row = 0;
  for (size_t s = 0; s < shard_rows_.size(); ++s) {
    for (int64_t start = 0; start < shard_rows_[s]; start += block_rows_) {
      int64_t count = std::min(block_rows_, shard_rows_[s] - start);
      blocks.push_back({static_cast<int>(s), start, count, split_row + start});
    }
    split_row += shard_rows_[s];
  }
  return blocks;
}

std::vector<Block> Sampler::rank_blocks(int64_t epoch) const {
  if (options_.shuffle) {
    std::vector<Block> blocks = all_blocks();
    core::Rng rng(core::derive_seed({options_.seed, static_cast<uint64_t>(epoch), kBlockStream}));
    core::shuffle(blocks, rng);
    std::vector<Block> mine;
    for (size_t i = rank_; i < blocks.size(); i += world_) mine.push_back(blocks[i]);
    return mine;
  }
  // Evaluation: a contiguous, near-equal range per rank, cut at shard and block boundaries.
  const int64_t lo = total_rows_ * rank_ / world_;
  const int64_t hi = total_rows_ * (rank_ + 1) / world_;
  std::vector<Block> mine;
  int64_t shard_begin = 0;
  for (size_t s = 0; s < shard_rows_.size(); ++s) {
    const int64_t shard_end = shard_begin + shard_rows_[s];
    for (int64_t row = std::max(lo, shard_begin); row < std::min(hi, shard_end); row += block_rows_) {
      int64_t count = std::min({block_rows_, hi - row, shard_end - row});
      mine.push_back({static_cast<int>(s), row - shard_begin, count, row});
    }
    shard_begin = shard_end;
  }
  return mine;
}

EpochPlan Sampler::plan(int64_t epoch) const {
  EpochPlan plan;
  plan.epoch = epoch;
  plan.blocks = rank_blocks(epoch);
  // Without shuffling there is nothing to gain from holding more than one block.
  const int64_t window_rows =
      options_.shuffle ? std::max<int64_t>(1, options_.shuffle_window_bytes / bytes_per_sample_) : 1;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const int64_t count = plan.blocks[i].count;
    if (plan.windows.empty() || plan.windows.back().rows + count > window_rows) {
      plan.windows.push_back({static_cast<int64_t>(i), 0, 0});
    }
    plan.windows.back().num_blocks += 1;
    plan.windows.back().rows += count;
    plan.rows += count;
  }
  plan.delivered = options_.drop_last ? steps_ * options_.batch_size : plan.rows;
  return plan;
}

std::vector<int64_t> Sampler::window_order(const EpochPlan& plan, size_t w) const {
  std::vector<int64_t> order(plan.windows.at(w).rows);
  std::iota(order.begin(), order.end(), int64_t{0});
  if (options_.shuffle) {
    core::Rng rng(core::derive_seed({options_.seed, static_cast<uint64_t>(plan.epoch), static_cast<uint64_t>(rank_),
                                     static_cast<uint64_t>(world_), static_cast<uint64_t>(w)}));
    core::shuffle(order, rng);
  }
  return order;
}

std::vector<int64_t> Sampler::delivered_rows(int64_t epoch) const {
  EpochPlan p = plan(epoch);
  std::vector<int64_t> rows;
  for (size_t w = 0; w < p.windows.size() && static_cast<int64_t>(rows.size()) < p.delivered; ++w) {
    const Window& win = p.windows[w];
    std::vector<int64_t> split_row;  // position within the window -> row within the split
    for (int64_t b = win.first_block; b < win.first_block + win.num_blocks; ++b) {
      for (int64_t i = 0; i < p.blocks[b].count; ++i) split_row.push_back(p.blocks[b].split_row + i);
    }
    for (int64_t pos : window_order(p, w)) {
      if (static_cast<int64_t>(rows.size()) == p.delivered) break;
      rows.push_back(split_row[pos]);
    }
  }
  return rows;
}

}  // namespace strike::worker
