// Tiny image and text datasets written with ShardWriter, whose every value is a known function of its row.
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

// A text dataset as `strike data convert --source text_*` writes it: a ragged int32 "tokens"
// field whose row lengths vary widely (empty rows included) and an int64 "label".
struct TinyTextDataset {
  std::vector<int64_t> shard_rows = {370, 500, 130};  // uneven on purpose
  int64_t max_length = 40;         // row lengths spread over [0, max_length]
  int64_t classes = 3;
  int64_t pad_id = -1;             // recorded as extra.tokenizer.pad_id if >= 0; absent otherwise
  int damaged_offsets_shard = -1;  // this shard's offsets decrease in the middle (first and last fine), if >= 0
};

// A fresh temporary directory, removed by the caller via remove_dir.
std::string make_temp_dir(const std::string& tag);
void remove_dir(const std::string& dir);

// Writes manifest.json and "train" shards into `dir`.
void write_dataset(const std::string& dir, const TinyDataset& spec);

// Writes manifest.json and "train" shards of a text dataset into `dir`.
void write_text_dataset(const std::string& dir, const TinyTextDataset& spec);

// The pixel written at byte `j` of split row `row`, and its label.
uint8_t pixel(int64_t row, int64_t j);
int64_t label_of(int64_t row, int64_t classes);
// Length and values of split row `row` of a text dataset; tokens are never 0.
int64_t token_length(int64_t row, int64_t max_length);
int32_t token(int64_t row, int64_t j);

}  // namespace strike::worker::testdata
