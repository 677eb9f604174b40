// Writes the tiny datasets the loader tests read.
#include "tests/worker/loader_fixture.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "core/manifest.h"
#include "core/fs.h"
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
