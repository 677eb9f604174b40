// `strike data convert`: raw data (IDX files, image folders, CSV files) to a sharded HDF5 dataset directory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/manifest.h"

namespace strike::data {

// Every field maps one to one onto a `strike data convert` flag (--val-fraction for val_fraction).
struct ConvertOptions {
  std::string source = "auto";  // "idx", "image_folder", "csv", "text_folder", "text_csv", or "auto": csv for a *.csv file, idx if input holds train-images-idx3-ubyte[.gz] (text is never guessed)
  std::string input;            // raw data directory, or the CSV file (required)
  std::string output;           // dataset directory to write (required; created when missing)
  int64_t shards = 4;           // shards of the train split; val/test get proportionally fewer, at least 1
  double val_fraction = 0.1;    // share of train carved out per class as val, unless the source has a val part
  double test_fraction = 0.1;   // same for test, unless the source has one (IDX: the t10k files)
  uint64_t seed = 0;            // seeds the split and the order of samples within every split
  int64_t image_size = 0;       // 0 = keep the source size (all images must share it); N = resize to NxN
  int64_t channels = 0;         // 0 = as stored (IDX: 1; image folders: 3 unless all gray); 1 or 3 converts
  bool overwrite = false;       // replace the dataset in a non-empty output directory instead of refusing
  std::string target;           // CSV and text_csv: the class column (required for both)
  std::vector<std::string> categorical;  // CSV: columns treated as categorical whatever they hold
  std::vector<std::string> numeric;      // CSV: columns treated as numeric; a value that is not a number is an error
  int64_t max_categories = 50;  // CSV: a categorical column with more distinct train values is an error
  std::string text_column = "text";    // text_csv: the column holding each document's text
  std::vector<std::string> label_map;  // text_folder: FOLDER=CLASS entries merging folders into one class
  std::string tokenizer = "unigram";   // text: sentencepiece model type, "unigram" or "bpe"
  int64_t vocab_size = 8000;           // text: tokenizer vocabulary size (fewer when the train text is small)
  int64_t max_tokens = 512;            // text: token ids kept per document; longer documents are truncated
  int64_t tokenizer_sample = 10000000;  // text: about this many bytes of train documents train the tokenizer
  int64_t tokenizer_min_count = 2;      // text: rarer words of that sample are left out of tokenizer training (1 = none; none either when they hold half its text)
};

// Throws UsageError naming the first bad option value.
void validate(const ConvertOptions& options);

// Shards for a split of `samples` rows: --shards for train (at most one per row), proportionally
// fewer for val/test, at least 1.
int64_t split_shard_count(const ConvertOptions& options, int64_t samples, int64_t train_samples, bool train);

// Converts and returns the manifest it wrote. Shards are written first (each under a temporary name,
// renamed when complete) and OUTPUT/manifest.json last, atomically, so a failed conversion never
// looks complete; shards it wrote are removed again when it fails.
core::Manifest convert(const ConvertOptions& options);

}  // namespace strike::data
