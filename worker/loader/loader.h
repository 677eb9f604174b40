// The per-rank data loader: block reads, in-memory shuffle, background prefetch, augmentation.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/manifest.h"
#include "core/shard.h"
#include "worker/loader/augment.h"
#include "worker/loader/batch.h"
#include "worker/loader/sampler.h"

namespace strike::worker {

struct LoaderOptions {
  int64_t batch_size = 128;                 // samples per batch
  bool shuffle = true;                      // shuffle blocks and rows (training); false: split order (eval)
  bool drop_last = true;                    // only full batches; false: the last ones may be short or empty
  uint64_t seed = 0;                        // with epoch, rank and world size, fixes order and augmentation
  int64_t block_bytes = 1 << 20;            // size of one contiguous shard read (1 MiB)
  int64_t shuffle_window_bytes = 64 << 20;  // rows are shuffled within windows of this size (64 MiB)
  int64_t bucket_batches = 50;              // training, ragged fields: rows sorted by length in pools of this
                                            // many global batches, so batches pad little (0: off)
  int prefetch_batches = 4;                 // batches ready ahead of the consumer
  bool augment = false;                     // random crop with padding and horizontal flip
  int64_t crop_padding = 4;                 // zero padding around the image before cropping back
  bool hflip = true;                        // with augment: flip horizontally with p = 0.5
  bool normalize = true;                    // image as float32 (x/255 - mean) / std; false: raw uint8
  bool verify_checksums = true;             // compare each shard's CRC-32 with the manifest on open
};

// Memory: the current window (at most shuffle_window_bytes), the prefetch queue and one open
// shard; never the whole data set. One background thread per epoch. A ragged field (shape [-1],
// e.g. token ids) counts the split's average row size, so windows hold that many bytes on average.
class DataLoader {
 public:
  DataLoader(const std::string& dataset_dir, const std::string& split, int rank, int world_size,
             LoaderOptions options = {});
  ~DataLoader();  // stops and joins the prefetch thread; never hangs
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const core::Manifest& manifest() const { return manifest_; }
  // The same on every rank and every epoch.
  int64_t steps_per_epoch() const { return sampler_->steps_per_epoch(); }
  // Samples this rank delivers per epoch (steps * batch with drop_last; its share of rows otherwise).
  int64_t rank_samples() const;
  const Sampler& sampler() const { return *sampler_; }

  // Starts prefetching `epoch`, abandoning any epoch in progress.
  void start_epoch(int64_t epoch);
  // The next batch; false at the epoch's end. Rethrows errors from the prefetch thread.
  bool next(Batch& out);

 private:
  struct Field {
    core::FieldSpec spec;
    int64_t bytes = 0;          // per sample; per value for a ragged field
    std::unique_ptr<uint8_t[]> data;  // the current window's rows, blocks back to back
    int64_t capacity = 0;             // kept across windows and epochs: no page faults, no zeroing
    // Ragged fields only: the window's values, block after block in read order (not window order,
    // as a row's place is known only once the blocks before it are read), and where each window
    // row starts in them (in values) and how long it is.
    std::vector<uint8_t> values;
    std::vector<int64_t> row_start;
    std::vector<int64_t> row_length;
  };
  // One batch's rows of a ragged field, widened to int64, until the batch is full and its longest
  // row, hence its padded width, is known.
  struct RaggedRows {
    std::vector<int64_t> lengths;
    std::vector<int64_t> values;  // the rows back to back
  };

  void stop();
  void produce(EpochPlan plan);
  void load_window(const EpochPlan& plan, const Window& window);
  void read_ragged_block(Field& f, const core::ShardReader& reader, const Block& block, int64_t window_row);
  const core::ShardReader& shard(int index);
  void check_labels(const Block& block, const uint8_t* labels) const;
  Batch finish_batch(int64_t epoch, int64_t step, int64_t size, const std::vector<uint8_t>& images,
                     std::vector<torch::Tensor>& others, const std::vector<RaggedRows>& ragged,
                     const std::vector<int64_t>& index) const;
  bool push(Batch batch);  // false when asked to stop

  std::string dir_;
  std::string split_;
  int rank_;
  int world_;
  LoaderOptions options_;
  core::Manifest manifest_;
  std::vector<std::string> shard_paths_;
  // One open shard at a time: each open HDF5 file costs about 0.5 MB of metadata cache, so
  // holding every shard open would make memory grow with the data set.
  std::unique_ptr<core::ShardReader> open_shard_;
  int open_shard_index_ = -1;
  std::vector<Field> fields_;
  int image_field_ = -1;  // index in fields_ of the uint8 [C, H, W] "image" field, if any
  int label_field_ = -1;
  int length_field_ = -1;  // index in fields_ of the first ragged field: its row lengths drive bucketing
  int64_t pad_id_ = 0;     // fills ragged rows up to their batch's longest (extra.tokenizer.pad_id)
  std::vector<int64_t> block_offsets_;  // scratch of one ragged block read
  std::vector<uint8_t> block_values_;
  ImageShape image_shape_;
  Normalizer normalizer_;
  std::unique_ptr<Sampler> sampler_;

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  bool stopping_ = false;
  bool done_ = true;
  bool started_ = false;
  std::exception_ptr error_;
};

}  // namespace strike::worker
