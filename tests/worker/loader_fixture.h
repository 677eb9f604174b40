// Tiny image datasets written with ShardWriter, whose every byte is a known function of its row.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strike::worker::testdata {

struct TinyDataset {
  std::vector<int64_t> shard_rows = {37, 50, 13};  // uneven on purpose
  int64_t channels = 1, height = 6, width = 5;
  int64_t classes = 10;
  std::string label_dtype = "int64";
  int64_t bad_label_row = -1;  // a split row whose label is out of range, if >= 0
};

// A fresh temporary directory, removed by the caller via remove_dir.
std::string make_temp_dir(const std::string& tag);
void remove_dir(const std::string& dir);

// Writes manifest.json and "train" shards into `dir`.
void write_dataset(const std::string& dir, const TinyDataset& spec);

// The pixel written at byte `j` of split row `row`, and its label.
uint8_t pixel(int64_t row, int64_t j);
int64_t label_of(int64_t row, int64_t classes);

}  // namespace strike::worker::testdata
