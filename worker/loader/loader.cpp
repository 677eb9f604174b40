// The per-rank data loader: opens and verifies shards, then one thread per epoch reads windows of
// blocks, gathers shuffled rows into batches, augments and normalizes them, and queues them.
#include "worker/loader/loader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "core/checksum.h"
#include "core/error.h"
#include "core/rng.h"

namespace strike::worker {

namespace {
constexpr uint64_t kAugStream = 0x41756755ULL;  // "AugU": per-batch augmentation draws

torch::Dtype torch_dtype(const std::string& dtype) {
  if (dtype == "uint8") return torch::kUInt8;
  if (dtype == "int32") return torch::kInt32;
  if (dtype == "int64") return torch::kInt64;
  if (dtype == "float32") return torch::kFloat32;
  return torch::kFloat64;
}

std::vector<int64_t> batch_shape(int64_t batch, const std::vector<int64_t>& sample_shape) {
  std::vector<int64_t> dims{batch};
  dims.insert(dims.end(), sample_shape.begin(), sample_shape.end());
  return dims;
}

int64_t read_int(const uint8_t* p, const std::string& dtype) {
  if (dtype == "uint8") return *p;
  if (dtype == "int32") {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  int64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool is_integer(const std::string& dtype) { return dtype == "uint8" || dtype == "int32" || dtype == "int64"; }

template <typename T>
void append_widened(const uint8_t* src, int64_t count, std::vector<int64_t>& out) {
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, src + i * static_cast<int64_t>(sizeof(T)), sizeof v);
    out[at + i] = static_cast<int64_t>(v);
  }
}

// Appends `count` integer values of `dtype` as int64: what embedding lookups take, whatever the
// shard stores to save space.
void append_row(const uint8_t* src, int64_t count, const std::string& dtype, std::vector<int64_t>& out) {
  if (dtype == "uint8") {
    append_widened<uint8_t>(src, count, out);
  } else if (dtype == "int32") {
    append_widened<int32_t>(src, count, out);
  } else {
    append_widened<int64_t>(src, count, out);
  }
}

// int64 [rows, L], L the longest row but at least 1 (so an empty batch is still a valid [0, 1]
// input), each row followed by `pad` up to L. `values` holds the rows back to back.
torch::Tensor padded_rows(const std::vector<int64_t>& lengths, const std::vector<int64_t>& values, int64_t pad) {
  const int64_t rows = static_cast<int64_t>(lengths.size());
  int64_t width = 1;
  for (int64_t n : lengths) width = std::max(width, n);
  torch::Tensor out = torch::full({rows, width}, pad, torch::kInt64);
  int64_t* dst = out.data_ptr<int64_t>();
  const int64_t* src = values.data();
  for (int64_t r = 0; r < rows; ++r) {
    std::copy_n(src, lengths[r], dst + r * width);
    src += lengths[r];
  }
  return out;
}

// The id ragged rows are padded with: the tokenizer's, as the converter recorded it; 0 when absent.
int64_t manifest_pad_id(const core::Manifest& m, const std::string& manifest_path) {
  if (!m.extra.is_object() || !m.extra.contains("tokenizer")) return 0;
  const nlohmann::json& tokenizer = m.extra["tokenizer"];
  if (!tokenizer.is_object() || !tokenizer.contains("pad_id")) return 0;
  if (!tokenizer["pad_id"].is_number_integer()) {
    throw Error("extra.tokenizer.pad_id is " + tokenizer["pad_id"].dump() + ", not an integer", manifest_path,
                "re-convert the dataset, or fix the pad id in manifest.json");
  }
  return tokenizer["pad_id"].get<int64_t>();
}
}  // namespace

DataLoader::DataLoader(const std::string& dataset_dir, const std::string& split, int rank, int world_size,
                       LoaderOptions options)
    : dir_(dataset_dir), split_(split), rank_(rank), world_(world_size), options_(options) {
  require(options_.prefetch_batches >= 1, "prefetch_batches must be at least 1");
  require(options_.crop_padding >= 0, "crop_padding must not be negative");
  manifest_ = core::Manifest::load(dir_);
  const core::SplitInfo& info = manifest_.split(split_);

  const std::string manifest_path = (std::filesystem::path(dir_) / core::kManifestFile).string();
  int64_t bytes_per_sample = 0;  // fixed-size fields; ragged ones add their average below
  for (const auto& spec : manifest_.fields) {
    const int idx = static_cast<int>(fields_.size());
    if (spec.ragged()) {
      if (!is_integer(spec.dtype)) {
        throw UsageError("ragged field '" + spec.name + "' is " + spec.dtype +
                             "; the loader pads ragged rows of integers (token ids) only",
                         manifest_path, "store the field as int32 or int64");
      }
      for (const auto& other : manifest_.fields) {
        if (other.name == spec.name + "_length") {
          throw Error("field '" + other.name + "' clashes with the lengths the loader delivers for ragged field '" +
                          spec.name + "'",
                      manifest_path, "rename the field when converting the dataset");
        }
      }
      fields_.push_back({spec, spec.element_bytes(), nullptr, 0});
      if (length_field_ < 0) length_field_ = idx;
      continue;
    }
    fields_.push_back({spec, spec.sample_bytes(), nullptr, 0});
    bytes_per_sample += spec.sample_bytes();
    if (spec.name == "label") label_field_ = idx;
    if (spec.name == "image" && spec.dtype == "uint8" && (spec.shape.size() == 3 || spec.shape.size() == 2)) {
      image_field_ = idx;
      const auto& s = spec.shape;
      image_shape_ = s.size() == 3 ? ImageShape{s[0], s[1], s[2]} : ImageShape{1, s[0], s[1]};
    }
  }
  if (length_field_ >= 0) pad_id_ = manifest_pad_id(manifest_, manifest_path);
  if (options_.augment && image_field_ < 0) {
    throw UsageError("augmentation needs a uint8 'image' field of shape [C, H, W]", manifest_path,
                     "turn augmentation off for this dataset");
  }
  if (options_.normalize && image_field_ >= 0) {
    const size_t c = static_cast<size_t>(image_shape_.channels);
    if (manifest_.mean.size() != c || manifest_.std.size() != c) {
      throw Error("normalization needs " + std::to_string(c) + " channel means and standard deviations, the manifest has " +
                      std::to_string(manifest_.mean.size()) + " and " + std::to_string(manifest_.std.size()),
                  manifest_path, "re-convert the dataset to record statistics, or turn normalization off");
    }
    for (double s : manifest_.std) {
      if (!(s > 0)) throw Error("a channel's standard deviation is not positive", manifest_path, "re-convert the dataset");
    }
    normalizer_ = Normalizer::from_stats(manifest_.mean, manifest_.std);
  }

  std::vector<int64_t> shard_rows;
  int64_t split_rows = 0, ragged_bytes = 0;
  for (const auto& shard : info.shards) {
    const std::string path = (std::filesystem::path(dir_) / shard.file).string();
    if (options_.verify_checksums && !shard.checksum.empty()) {
      const std::string actual = core::file_checksum(path);
      if (actual != shard.checksum) {
        throw Error("shard checksum " + actual + " does not match the manifest's " + shard.checksum, path,
                    "the file is damaged or was changed; run `strike data verify " + dir_ + "` and re-convert");
      }
    }
    const core::ShardReader reader(path, manifest_.fields);  // validates fields, types and shapes now
    if (reader.rows() != shard.samples) {
      throw Error("shard has " + std::to_string(reader.rows()) + " rows, the manifest says " +
                      std::to_string(shard.samples),
                  path, "run `strike data verify " + dir_ + "` and re-convert");
    }
    // A ragged field's values in this shard: its last offset, one entry read.
    for (const auto& f : fields_) {
      if (!f.spec.ragged()) continue;
      int64_t values = 0;
      reader.read_offsets(f.spec, reader.rows(), 1, &values);
      ragged_bytes += values * f.bytes;
    }
    shard_paths_.push_back(path);
    shard_rows.push_back(shard.samples);
    split_rows += shard.samples;
  }
  // Rows of average size, so block_bytes and shuffle_window_bytes still mean bytes.
  if (split_rows > 0) bytes_per_sample += (ragged_bytes + split_rows - 1) / split_rows;
  SamplerOptions so;
  so.batch_size = options_.batch_size;
  so.shuffle = options_.shuffle;
  so.drop_last = options_.drop_last;
  so.seed = options_.seed;
  so.block_bytes = options_.block_bytes;
  so.shuffle_window_bytes = options_.shuffle_window_bytes;
  so.bucket_batches = options_.bucket_batches;
  sampler_ = std::make_unique<Sampler>(shard_rows, std::max<int64_t>(1, bytes_per_sample), rank_, world_, so);
}

DataLoader::~DataLoader() { stop(); }

int64_t DataLoader::rank_samples() const {
  return sampler_->plan(0).delivered;  // the same every epoch
}

void DataLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = false;
  done_ = true;
  queue_.clear();
  error_ = nullptr;
}

void DataLoader::start_epoch(int64_t epoch) {
  stop();
  EpochPlan plan = sampler_->plan(epoch);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = false;
    started_ = true;
  }
  thread_ = std::thread([this, plan = std::move(plan)]() mutable {
    try {
      produce(std::move(plan));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
  });
}

bool DataLoader::next(Batch& out) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) throw Error("next() called before start_epoch()", dir_, "call start_epoch(epoch) first");
  changed_.wait(lock, [&] { return !queue_.empty() || done_; });
  if (!queue_.empty()) {
    out = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    changed_.notify_all();
    return true;
  }
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
  return false;
}

bool DataLoader::push(Batch batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return stopping_ || static_cast<int>(queue_.size()) < options_.prefetch_batches; });
  if (stopping_) return false;
  queue_.push_back(std::move(batch));
  lock.unlock();
  changed_.notify_all();
  return true;
}

void DataLoader::load_window(const EpochPlan& plan, const Window& window) {
  for (auto& f : fields_) {
    if (f.spec.ragged()) {
      f.values.clear();  // keeps its capacity
      f.row_start.resize(static_cast<size_t>(window.rows));
      f.row_length.resize(static_cast<size_t>(window.rows));
      continue;
    }
    if (f.capacity < window.rows * f.bytes) {
      f.data.reset();
      f.capacity = window.rows * f.bytes;
      f.data.reset(new uint8_t[static_cast<size_t>(f.capacity)]);
    }
  }
  // Rows land at their window offsets whatever the read order, so read shard by shard: each
  // shard is opened once per window.
  std::vector<int64_t> offset(static_cast<size_t>(window.num_blocks), 0), by_shard(offset.size());
  for (size_t k = 1; k < offset.size(); ++k) offset[k] = offset[k - 1] + plan.blocks[window.first_block + k - 1].count;
  std::iota(by_shard.begin(), by_shard.end(), int64_t{0});
  std::stable_sort(by_shard.begin(), by_shard.end(), [&](int64_t a, int64_t b) {
    const Block& x = plan.blocks[window.first_block + a];
    const Block& y = plan.blocks[window.first_block + b];
    return std::make_pair(x.shard, x.start) < std::make_pair(y.shard, y.start);
  });
  for (int64_t k : by_shard) {
    const Block& block = plan.blocks[window.first_block + k];
    const core::ShardReader& reader = shard(block.shard);
    // One read per field per block: HDF5 is never called per sample.
    for (auto& f : fields_) {
      if (f.spec.ragged()) {
        read_ragged_block(f, reader, block, offset[k]);
      } else {
        reader.read(f.spec, block.start, block.count, f.data.get() + offset[k] * f.bytes);
      }
    }
    if (label_field_ >= 0) check_labels(block, fields_[label_field_].data.get() + offset[k] * fields_[label_field_].bytes);
  }
}

// One read of offsets and values per block, like the fixed fields; read_ragged checks the offsets
// and names the shard if they are damaged.
void DataLoader::read_ragged_block(Field& f, const core::ShardReader& reader, const Block& block, int64_t window_row) {
  reader.read_ragged(f.spec, block.start, block.count, block_offsets_, block_values_);
  const int64_t base = static_cast<int64_t>(f.values.size()) / f.bytes;
  f.values.insert(f.values.end(), block_values_.begin(), block_values_.end());
  for (int64_t i = 0; i < block.count; ++i) {
    f.row_start[window_row + i] = base + block_offsets_[i];
    f.row_length[window_row + i] = block_offsets_[i + 1] - block_offsets_[i];
  }
}

const core::ShardReader& DataLoader::shard(int index) {
  if (index != open_shard_index_) {
    open_shard_.reset();
    open_shard_index_ = -1;
    open_shard_ = std::make_unique<core::ShardReader>(shard_paths_[index], manifest_.fields);
    open_shard_index_ = index;
  }
  return *open_shard_;
}

void DataLoader::check_labels(const Block& block, const uint8_t* labels) const {
  const int64_t classes = static_cast<int64_t>(manifest_.class_names.size());
  if (classes == 0) return;
  const Field& f = fields_[label_field_];
  for (int64_t i = 0; i < block.count; ++i) {
    const int64_t label = read_int(labels + i * f.bytes, f.spec.dtype);
    if (label < 0 || label >= classes) {
      throw Error("label " + std::to_string(label) + " of row " + std::to_string(block.start + i) + " is outside [0, " +
                      std::to_string(classes) + ")",
                  shard_paths_[block.shard], "the shard does not match manifest.json; re-convert the dataset");
    }
  }
}

void DataLoader::produce(EpochPlan plan) {
  const int64_t B = options_.batch_size;
  const int64_t steps = sampler_->steps_per_epoch();
  const bool transform_image = image_field_ >= 0 && (options_.augment || options_.normalize);
  auto size_of = [&](int64_t step) { return std::max<int64_t>(0, std::min(B, plan.delivered - step * B)); };

  // Per batch: one destination per field (a staging buffer for an image that is transformed after).
  std::vector<uint8_t> image_staging;
  std::vector<torch::Tensor> raw(fields_.size());
  std::vector<RaggedRows> ragged(fields_.size());
  std::vector<int64_t> index;
  int64_t step = 0, filled = 0, size = 0;
  auto begin_batch = [&]() {
    size = size_of(step);
    filled = 0;
    index.assign(static_cast<size_t>(size), 0);
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].spec.ragged()) {
        raw[i] = torch::Tensor();
        ragged[i].lengths.clear();
        ragged[i].values.clear();
      } else if (static_cast<int>(i) == image_field_ && transform_image) {
        image_staging.resize(static_cast<size_t>(size * fields_[i].bytes));
        raw[i] = torch::Tensor();
      } else {
        raw[i] = torch::empty(batch_shape(size, fields_[i].spec.shape), torch_dtype(fields_[i].spec.dtype));
      }
    }
  };
  std::vector<uint8_t*> dst(fields_.size());
  auto bind = [&]() {
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].spec.ragged()) {
        dst[i] = nullptr;  // rows go to ragged[i]
      } else {
        dst[i] = raw[i].defined() ? static_cast<uint8_t*>(raw[i].data_ptr()) : image_staging.data();
      }
    }
  };

  begin_batch();
  bind();
  int64_t produced = 0, pos = 0;  // rows delivered, stream position
  for (size_t w = 0; w < plan.windows.size() && produced < plan.delivered; ++w) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    const Window& window = plan.windows[w];
    load_window(plan, window);
    std::vector<int64_t> split_row;  // window position -> row within the split
    split_row.reserve(static_cast<size_t>(window.rows));
    for (int64_t b = window.first_block; b < window.first_block + window.num_blocks; ++b) {
      for (int64_t i = 0; i < plan.blocks[b].count; ++i) split_row.push_back(plan.blocks[b].split_row + i);
    }
    const std::vector<int64_t> no_lengths;
    const std::vector<int64_t>& lengths = length_field_ >= 0 ? fields_[length_field_].row_length : no_lengths;
    for (int64_t at : sampler_->window_order(plan, w, lengths)) {
      if (produced == plan.delivered) break;
      if (!sampler_->delivers(pos++)) continue;
      for (size_t i = 0; i < fields_.size(); ++i) {
        const Field& f = fields_[i];
        if (f.spec.ragged()) {
          ragged[i].lengths.push_back(f.row_length[at]);
          append_row(f.values.data() + f.row_start[at] * f.bytes, f.row_length[at], f.spec.dtype, ragged[i].values);
          continue;
        }
        const int64_t n = f.bytes;
        std::memcpy(dst[i] + filled * n, f.data.get() + at * n, static_cast<size_t>(n));
      }
      index[filled++] = split_row[at];
      ++produced;
      if (filled == size) {
        if (!push(finish_batch(plan.epoch, step, size, image_staging, raw, ragged, index))) return;
        ++step;
        begin_batch();
        bind();
      }
    }
  }
  // Ranks with fewer rows still run every step, with empty batches, so none waits for another.
  for (; step < steps; ++step) {
    begin_batch();
    if (!push(finish_batch(plan.epoch, step, size, image_staging, raw, ragged, index))) return;
  }
}

Batch DataLoader::finish_batch(int64_t epoch, int64_t step, int64_t size, const std::vector<uint8_t>& images,
                               std::vector<torch::Tensor>& raw, const std::vector<RaggedRows>& ragged,
                               const std::vector<int64_t>& index) const {
  Batch batch;
  batch.size = size;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const Field& f = fields_[i];
    if (f.spec.ragged()) {
      const std::vector<int64_t>& lengths = ragged[i].lengths;
      batch.fields[f.spec.name] = padded_rows(lengths, ragged[i].values, pad_id_);
      torch::Tensor length = torch::empty({static_cast<int64_t>(lengths.size())}, torch::kInt64);
      std::copy(lengths.begin(), lengths.end(), length.data_ptr<int64_t>());
      batch.fields[f.spec.name + "_length"] = length;
    } else if (static_cast<int>(i) == image_field_ && !raw[i].defined()) {
      const auto dims = batch_shape(size, f.spec.shape);
      std::vector<SampleTransform> t;
      if (options_.augment) {
        // Drawn for the whole global batch and sliced, so a sample's transform does not depend on
        // how many ranks share the batch.
        const int64_t B = options_.batch_size;
        t = draw_transforms(B * world_, options_.crop_padding, options_.hflip,
                            core::derive_seed({options_.seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(step),
                                               kAugStream}));
        t.erase(t.begin(), t.begin() + rank_ * B);
        t.resize(static_cast<size_t>(size));
      }
      torch::Tensor out;
      if (options_.normalize) {
        out = torch::empty(dims, torch::kFloat32);
        float* p = out.data_ptr<float>();
        if (options_.augment) {
          augment_normalize_batch(images.data(), size, image_shape_, t, normalizer_, p);
        } else {
          normalize_batch(images.data(), size, image_shape_, normalizer_, p);
        }
      } else {
        out = torch::empty(dims, torch::kUInt8);
        augment_batch(images.data(), size, image_shape_, t, out.data_ptr<uint8_t>());
      }
      batch.fields[f.spec.name] = out;
    } else if (static_cast<int>(i) == label_field_ && f.spec.dtype != "int64" && f.spec.shape.empty()) {
      torch::Tensor labels = torch::empty({size}, torch::kInt64);
      const uint8_t* src = static_cast<const uint8_t*>(raw[i].data_ptr());
      int64_t* out = labels.data_ptr<int64_t>();
      for (int64_t b = 0; b < size; ++b) out[b] = read_int(src + b * f.bytes, f.spec.dtype);
      batch.fields[f.spec.name] = labels;
    } else {
      batch.fields[f.spec.name] = raw[i];
    }
  }
  torch::Tensor idx = torch::empty({size}, torch::kInt64);
  if (size > 0) std::memcpy(idx.data_ptr<int64_t>(), index.data(), static_cast<size_t>(size) * sizeof(int64_t));
  batch.fields["index"] = idx;
  return batch;
}

}  // namespace strike::worker
