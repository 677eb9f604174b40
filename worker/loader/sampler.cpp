// The loader's plan: one world-independent training stream cut into per-rank slices, contiguous
// evaluation ranges, equal step counts on every rank.
#include "worker/loader/sampler.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/rng.h"

namespace strike::worker {

namespace {
constexpr uint64_t kBlockStream = 0x426c6f636bULL;   // "Block": the epoch's block permutation
constexpr uint64_t kWindowStream = 0x57696e646fULL;  // "Windo": row order within each window
constexpr uint64_t kBucketStream = 0x4275636b65ULL;  // "Bucke": order of a length pool's global batches

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
  require(options_.bucket_batches >= 0,
          "bucket_batches must not be negative (0 turns bucketing off), got " + std::to_string(options_.bucket_batches));
  for (int64_t r : shard_rows_) total_rows_ += r;

  // A small split gets small blocks, so shuffling blocks still mixes it. Independent of the world
  // size: the training order must be the same for any number of ranks.
  block_rows_ = std::max<int64_t>(1, options_.block_bytes / bytes_per_sample_);
  if (total_rows_ > 0) block_rows_ = std::max<int64_t>(1, std::min(block_rows_, ceil_div(total_rows_, 32)));

  const int64_t B = options_.batch_size;
  if (options_.shuffle) {
    const int64_t global = B * world_;
    steps_ = options_.drop_last ? total_rows_ / global : ceil_div(total_rows_, global);
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

std::vector<Block> Sampler::plan_blocks(int64_t epoch) const {
  if (options_.shuffle) {
    // Every rank reads every block and keeps its slice of each global batch: reading W times the
    // data (from the page cache, at memory speed) buys training that does not depend on W.
    std::vector<Block> blocks = all_blocks();
    core::Rng rng(core::derive_seed({options_.seed, static_cast<uint64_t>(epoch), kBlockStream}));
    core::shuffle(blocks, rng);
    return blocks;
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
  plan.blocks = plan_blocks(epoch);
  // Without shuffling there is nothing to gain from holding more than one block.
  const int64_t window_rows =
      options_.shuffle ? std::max<int64_t>(1, options_.shuffle_window_bytes / bytes_per_sample_) : 1;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const int64_t count = plan.blocks[i].count;
    if (plan.windows.empty() || plan.windows.back().rows + count > window_rows) {
      plan.windows.push_back({static_cast<int64_t>(i), 0, 0, plan.rows});
    }
    plan.windows.back().num_blocks += 1;
    plan.windows.back().rows += count;
    plan.rows += count;
  }
  const int64_t B = options_.batch_size;
  if (options_.shuffle) {
    plan.stream_rows = options_.drop_last ? steps_ * B * world_ : plan.rows;
    // Full global batches give B rows each; a ragged last one (no drop_last) gives what reaches this rank.
    const int64_t full = plan.stream_rows / (B * world_);
    const int64_t rest = plan.stream_rows - full * B * world_;
    plan.delivered = full * B + std::clamp<int64_t>(rest - rank_ * B, 0, B);
  } else {
    plan.stream_rows = options_.drop_last ? steps_ * B : plan.rows;
    plan.delivered = plan.stream_rows;
  }
  return plan;
}

void bucket_by_length(std::vector<int64_t>& order, const std::vector<int64_t>& lengths, int64_t stream_start,
                      int64_t global_batch, int64_t pool_batches, uint64_t seed, int64_t epoch, int64_t window) {
  require(lengths.size() == order.size(), "bucketing needs one length per row of the window: " +
                                              std::to_string(lengths.size()) + " lengths for " +
                                              std::to_string(order.size()) + " rows");
  if (pool_batches <= 0 || global_batch <= 0) return;
  const int64_t rows = static_cast<int64_t>(order.size());
  // Sorted batches must coincide with the stream's global batches, or each would straddle two.
  const int64_t head = (global_batch - stream_start % global_batch) % global_batch;
  const int64_t whole = head < rows ? (rows - head) / global_batch : 0;
  std::vector<int64_t> sorted;
  std::vector<int64_t> batch_order;
  for (int64_t pool = 0; pool * pool_batches < whole; ++pool) {
    const int64_t batches = std::min(pool_batches, whole - pool * pool_batches);
    const auto begin = order.begin() + head + pool * pool_batches * global_batch;
    const auto end = begin + batches * global_batch;
    // Stable: rows of equal length keep their shuffled order, so each batch is still a random draw among them.
    std::stable_sort(begin, end, [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
    sorted.assign(begin, end);
    // Without this the epoch would run from short batches to long ones, a bias the optimizer would feel.
    batch_order.resize(static_cast<size_t>(batches));
    std::iota(batch_order.begin(), batch_order.end(), int64_t{0});
    core::Rng rng(core::derive_seed({seed, static_cast<uint64_t>(epoch), kBucketStream, static_cast<uint64_t>(window),
                                     static_cast<uint64_t>(pool)}));
    core::shuffle(batch_order, rng);
    for (int64_t k = 0; k < batches; ++k) {
      std::copy_n(sorted.begin() + batch_order[k] * global_batch, global_batch, begin + k * global_batch);
    }
  }
}

std::vector<int64_t> Sampler::window_order(const EpochPlan& plan, size_t w, const std::vector<int64_t>& lengths) const {
  const Window& window = plan.windows.at(w);
  std::vector<int64_t> order(window.rows);
  std::iota(order.begin(), order.end(), int64_t{0});
  if (options_.shuffle) {
    core::Rng rng(core::derive_seed({options_.seed, static_cast<uint64_t>(plan.epoch), kWindowStream, static_cast<uint64_t>(w)}));
    core::shuffle(order, rng);
    // Training only: evaluation keeps the split order, which predict's output relies on.
    if (options_.bucket_batches > 0 && !lengths.empty()) {
      bucket_by_length(order, lengths, window.stream_start, options_.batch_size * world_, options_.bucket_batches,
                       options_.seed, plan.epoch, static_cast<int64_t>(w));
    }
  }
  return order;
}

std::vector<int64_t> Sampler::delivered_rows(int64_t epoch, const std::vector<int64_t>& split_lengths) const {
  EpochPlan p = plan(epoch);
  std::vector<int64_t> rows;
  int64_t pos = 0;  // stream position
  for (size_t w = 0; w < p.windows.size() && pos < p.stream_rows; ++w) {
    const Window& win = p.windows[w];
    std::vector<int64_t> split_row;  // position within the window -> row within the split
    for (int64_t b = win.first_block; b < win.first_block + win.num_blocks; ++b) {
      for (int64_t i = 0; i < p.blocks[b].count; ++i) split_row.push_back(p.blocks[b].split_row + i);
    }
    std::vector<int64_t> lengths;
    if (!split_lengths.empty()) {
      require(static_cast<int64_t>(split_lengths.size()) == total_rows_,
              "delivered_rows needs one length per split row: " + std::to_string(split_lengths.size()) + " for " +
                  std::to_string(total_rows_) + " rows");
      for (int64_t row : split_row) lengths.push_back(split_lengths[row]);
    }
    for (int64_t at : window_order(p, w, lengths)) {
      if (pos == p.stream_rows) break;
      if (delivers(pos++)) rows.push_back(split_row[at]);
    }
  }
  return rows;
}

}  // namespace strike::worker
