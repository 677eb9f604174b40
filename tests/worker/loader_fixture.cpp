// Writes the tiny datasets the loader tests read.
#include "tests/worker/loader_fixture.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "core/checksum.h"
#include "core/fs.h"
#include "core/h5.h"
#include "core/manifest.h"
#include "core/rng.h"
#include "core/shard.h"

namespace strike::worker::testdata {

namespace fs = std::filesystem;

std::string make_temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  fs::path dir = fs::temp_directory_path() /
                 ("strike_loader_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  strike::core::remove_tree(dir.string());
  fs::create_directories(dir);
  return dir.string();
}

void remove_dir(const std::string& dir) {
  strike::core::remove_tree(dir);
}

uint8_t pixel(int64_t row, int64_t j) { return static_cast<uint8_t>((row * 31 + j * 7 + (row >> 3)) & 0xff); }
int64_t label_of(int64_t row, int64_t classes) { return row % classes; }
int64_t token_length(int64_t row, int64_t max_length) {
  return static_cast<int64_t>(core::mix64(static_cast<uint64_t>(row)) % static_cast<uint64_t>(max_length + 1));
}
int32_t token(int64_t row, int64_t j) { return static_cast<int32_t>(1 + (row * 131 + j * 17) % 5000); }

namespace {
// A shard written field by field with h5::File, for damage ShardWriter would never produce.
core::ShardInfo write_raw_text_shard(const std::string& path, const std::vector<int32_t>& values,
                                     std::vector<int64_t> offsets, const std::vector<int64_t>& labels) {
  const size_t mid = offsets.size() / 2;
  offsets[mid] = offsets[mid + 1] + 1;  // the next entry now decreases
  {
    auto file = h5::File::create(path);
    file.write("tokens", h5::DType::kInt32, {static_cast<int64_t>(values.size())}, values.data());
    file.write("tokens_offsets", h5::DType::kInt64, {static_cast<int64_t>(offsets.size())}, offsets.data());
    file.write("label", h5::DType::kInt64, {static_cast<int64_t>(labels.size())}, labels.data());
    file.flush();
  }
  core::ShardInfo info;
  info.file = fs::path(path).filename().string();
  info.samples = static_cast<int64_t>(labels.size());
  info.bytes = static_cast<int64_t>(fs::file_size(path));
  info.checksum = core::file_checksum(path);  // the damage is the converter's: the checksum matches it
  return info;
}
}  // namespace

void write_text_dataset(const std::string& dir, const TinyTextDataset& spec) {
  core::Manifest m;
  m.task = "text_classification";
  m.source = "test";
  m.fields = {{"tokens", "int32", {-1}}, {"label", "int64", {}}};
  for (int64_t c = 0; c < spec.classes; ++c) m.class_names.push_back("class" + std::to_string(c));
  if (spec.pad_id >= 0) m.extra["tokenizer"] = {{"pad_id", spec.pad_id}, {"unk_id", 1}};
  core::SplitInfo split{"train", 0, {}};
  int64_t row0 = 0;
  for (size_t s = 0; s < spec.shard_rows.size(); ++s) {
    const int64_t rows = spec.shard_rows[s];
    std::vector<int32_t> values;
    std::vector<int64_t> lengths(rows), offsets{0}, labels(rows);
    for (int64_t r = 0; r < rows; ++r) {
      lengths[r] = token_length(row0 + r, spec.max_length);
      for (int64_t j = 0; j < lengths[r]; ++j) values.push_back(token(row0 + r, j));
      offsets.push_back(offsets.back() + lengths[r]);
      labels[r] = label_of(row0 + r, spec.classes);
    }
    const std::string path = (fs::path(dir) / ("train-" + std::to_string(s) + ".h5")).string();
    if (static_cast<int>(s) == spec.damaged_offsets_shard) {
      split.shards.push_back(write_raw_text_shard(path, values, offsets, labels));
    } else {
      core::ShardWriter writer(path, m.fields, rows);
      writer.append_ragged("tokens", values.data(), lengths.data(), rows);
      writer.append("label", labels.data(), rows);
      split.shards.push_back(writer.finish());
    }
    split.samples += rows;
    row0 += rows;
  }
  m.splits.push_back(split);
  m.save(dir);
}

void write_dataset(const std::string& dir, const TinyDataset& spec) {
  core::Manifest m;
  m.task = "image_classification";
  m.source = "test";
  m.fields = {{"image", "uint8", {spec.channels, spec.height, spec.width}}, {"label", spec.label_dtype, {}}};
  for (int64_t c = 0; c < spec.classes; ++c) m.class_names.push_back("class" + std::to_string(c));
  for (int64_t c = 0; c < spec.channels; ++c) {
    m.mean.push_back(0.25 + 0.1 * c);
    m.std.push_back(0.5 - 0.1 * c);
  }
  core::SplitInfo split{"train", 0, {}};
  const int64_t pixels = spec.channels * spec.height * spec.width;
  int64_t row0 = 0;
  for (size_t s = 0; s < spec.shard_rows.size(); ++s) {
    const int64_t rows = spec.shard_rows[s];
    std::vector<uint8_t> images(static_cast<size_t>(rows * pixels));
    std::vector<int64_t> labels64(rows);
    std::vector<int32_t> labels32(rows);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < pixels; ++j) images[r * pixels + j] = pixel(row0 + r, j);
      labels64[r] = row0 + r == spec.bad_label_row ? spec.classes : label_of(row0 + r, spec.classes);
      labels32[r] = static_cast<int32_t>(labels64[r]);
    }
    core::ShardWriter writer((fs::path(dir) / ("train-" + std::to_string(s) + ".h5")).string(), m.fields, rows);
    writer.append("image", images.data(), rows);
    if (spec.label_dtype == "int32") {
      writer.append("label", labels32.data(), rows);
    } else {
      writer.append("label", labels64.data(), rows);
    }
    split.shards.push_back(writer.finish());
    split.samples += rows;
    row0 += rows;
  }
  m.splits.push_back(split);
  m.save(dir);
}

}  // namespace strike::worker::testdata
