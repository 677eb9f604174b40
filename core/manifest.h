// The dataset directory's manifest.json: what every shard holds, and the statistics to use it.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace strike::core {

constexpr int kDatasetFormatVersion = 1;
constexpr const char* kManifestFile = "manifest.json";

// One per-sample field stored in every shard as a dataset of shape [rows, shape...].
// A field of shape {-1} is ragged: a 1-D row of any length per sample (token ids), stored as the
// flat values dataset `name` (all rows concatenated) plus the int64 dataset `name`_offsets with
// rows + 1 entries, offsets[0] = 0, non-decreasing, the last equal to the values' length; row i is
// values[offsets[i], offsets[i+1]). No other shape may hold a negative size.
struct FieldSpec {
  std::string name;            // HDF5 dataset name, e.g. "image", "label"
  std::string dtype;           // "uint8", "int32", "int64", "float32", "float64"
  std::vector<int64_t> shape;  // per-sample shape, e.g. {1, 28, 28} (C, H, W); {} for a scalar; {-1} ragged
  bool ragged() const { return shape.size() == 1 && shape[0] == -1; }
  // Bytes of one sample; throws Error for a ragged field, whose samples have no fixed size.
  int64_t sample_bytes() const;
  int64_t element_bytes() const;  // bytes of one value of `dtype`
};

constexpr const char* kOffsetsSuffix = "_offsets";  // ragged field `name`: its offsets dataset

struct ShardInfo {
  std::string file;      // path relative to the dataset directory
  int64_t samples = 0;   // rows in this shard
  int64_t bytes = 0;     // file size
  std::string checksum;  // "crc32:..." of the whole file
};

struct SplitInfo {
  std::string name;  // "train", "val", "test"
  int64_t samples = 0;
  std::vector<ShardInfo> shards;
};

struct Manifest {
  int format_version = kDatasetFormatVersion;
  std::string task;                      // "image_classification", ...
  std::string source;                    // "idx", "image_folder", ...
  std::vector<FieldSpec> fields;         // every field present in every shard
  std::vector<std::string> class_names;  // label i is class_names[i]
  std::vector<SplitInfo> splits;
  std::vector<double> mean;              // per-channel mean of the train split, in [0, 1]
  std::vector<double> std;               // per-channel standard deviation of the train split
  nlohmann::json extra = nlohmann::json::object();  // source-specific settings (seed, sizes, ...)

  nlohmann::json to_json() const;
  static Manifest from_json(const nlohmann::json& j, const std::string& where = "");

  // Reads and validates DIR/manifest.json; errors name the file and what is wrong.
  static Manifest load(const std::string& dir);
  // Writes DIR/manifest.json atomically (temporary file, then rename).
  void save(const std::string& dir) const;

  bool has_split(const std::string& name) const;
  const SplitInfo& split(const std::string& name) const;  // throws listing the splits present
  const FieldSpec& field(const std::string& name) const;  // throws listing the fields present
  // A stable hash of the manifest's content, recorded in checkpoints.
  std::string hash() const;
};

}  // namespace strike::core
