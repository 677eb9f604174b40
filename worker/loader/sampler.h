// The loader's plan: which rows a rank reads and delivers, in which blocks and order, as a pure
// function of (seed, epoch, rank, world size). No I/O, so tests can check it directly.
#pragma once
#include <cstdint>
#include <vector>

namespace strike::worker {

struct SamplerOptions {
  int64_t batch_size = 128;                  // rows per batch
  bool shuffle = true;                       // training order: blocks permuted, rows shuffled within windows
  bool drop_last = true;                     // every batch full; otherwise short/empty trailing batches
  uint64_t seed = 0;                         // base of every random stream
  int64_t block_bytes = 1 << 20;             // target size of one contiguous read
  int64_t shuffle_window_bytes = 64 << 20;   // rows are shuffled within windows of about this size
  int64_t bucket_batches = 50;               // training, given row lengths: global batches per length-sorted pool (0: off)
};

// Rows [start, start + count) of one shard; never crosses a shard boundary.
struct Block {
  int shard = 0;          // index into the split's shards, in manifest order
  int64_t start = 0;      // first row within the shard
  int64_t count = 0;      // rows
  int64_t split_row = 0;  // index of the first row within the whole split
};

// Consecutive blocks of the plan that are held in memory together and shuffled as one.
struct Window {
  int64_t first_block = 0;  // index into EpochPlan::blocks
  int64_t num_blocks = 0;
  int64_t rows = 0;
  int64_t stream_start = 0;  // stream position of the window's first row (rows of the windows before it)
};

// One rank's epoch: the blocks it reads in order, grouped into windows. The windows' rows in
// window order form the delivery stream; the rank delivers the stream positions that are its own.
struct EpochPlan {
  int64_t epoch = 0;
  std::vector<Block> blocks;
  std::vector<Window> windows;
  int64_t rows = 0;         // rows in the blocks
  int64_t stream_rows = 0;  // leading stream positions used this epoch (drop_last drops the rest)
  int64_t delivered = 0;    // rows this rank delivers
};

// Length bucketing of one window's delivery `order` (positions within the window, whose first row
// is stream position `stream_start`), so that batches hold rows of similar length and pad little.
// The whole global batches of `global_batch` rows that lie in the window are taken in pools of
// `pool_batches`; each pool is stably sorted by `lengths[position]`, cut into global batches again,
// and those are put in a random order drawn from (seed, epoch, window, pool). The at most two
// partial global batches at the window's ends keep their places: they share a global batch with
// the neighbouring window. Each pool is permuted within itself and depends on the global batch
// only, never on how it is split among ranks, so every row is still delivered once and N ranks
// with batch B still see the global batches of one rank with batch N*B.
void bucket_by_length(std::vector<int64_t>& order, const std::vector<int64_t>& lengths, int64_t stream_start,
                      int64_t global_batch, int64_t pool_batches, uint64_t seed, int64_t epoch, int64_t window);

class Sampler {
 public:
  // `shard_rows`: rows of each shard of the split, in manifest order.
  Sampler(std::vector<int64_t> shard_rows, int64_t bytes_per_sample, int rank, int world_size,
          SamplerOptions options);

  int64_t split_rows() const { return total_rows_; }
  int64_t block_rows() const { return block_rows_; }
  // Identical on every rank and every epoch, so no rank waits for another at an epoch's end
  // and schedulers can count total steps up front.
  int64_t steps_per_epoch() const { return steps_; }
  int64_t batch_size() const { return options_.batch_size; }

  EpochPlan plan(int64_t epoch) const;
  // Whether stream position `pos` is this rank's. Training: the stream is the same for every world
  // size, and rank r takes rows [r*B, (r+1)*B) of each global batch of W*B rows, so N ranks see
  // exactly the global batches one rank would see with batch N*B. Evaluation: every rank reads only
  // its own contiguous range, all of which it delivers.
  bool delivers(int64_t pos) const {
    return !options_.shuffle || (pos / options_.batch_size) % world_ == rank_;
  }
  // Positions within window `w`'s rows (blocks concatenated in order) in delivery order.
  // `lengths`: each of the window's rows' length (its first ragged field), which turns on length
  // bucketing when training with bucket_batches > 0; empty: no bucketing (fixed-size data).
  std::vector<int64_t> window_order(const EpochPlan& plan, size_t w, const std::vector<int64_t>& lengths = {}) const;
  // Split-row index of each row this rank delivers in the epoch, in order (O(rows); for tests/tools).
  // `split_lengths`: each split row's length, to follow the loader's length bucketing; empty: none.
  std::vector<int64_t> delivered_rows(int64_t epoch, const std::vector<int64_t>& split_lengths = {}) const;

 private:
  std::vector<Block> all_blocks() const;
  std::vector<Block> plan_blocks(int64_t epoch) const;

  std::vector<int64_t> shard_rows_;
  int64_t bytes_per_sample_;
  int rank_;
  int world_;
  SamplerOptions options_;
  int64_t total_rows_ = 0;
  int64_t block_rows_ = 1;
  int64_t steps_ = 0;
};

}  // namespace strike::worker
