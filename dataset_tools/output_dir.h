// Preparing the output directory of a conversion without ever deleting what strike did not write.
#pragma once
#include <string>

namespace strike::data {

// Shard file name: "train-00000-of-00004.h5".
std::string shard_file_name(const std::string& split, int64_t index, int64_t count);

// Throws the UsageError prepare_output_dir would, without touching anything.
void check_output_dir(const std::string& output, const std::string& input, bool overwrite);

// Creates `output` if needed. A non-empty directory is refused with a UsageError unless `overwrite`,
// in which case its manifest.json is removed first (so it stops looking complete) and then every
// file named like a shard or a text conversion's staging file; other files are left alone. `input` must not contain `output`.
void prepare_output_dir(const std::string& output, const std::string& input, bool overwrite);

}  // namespace strike::data
