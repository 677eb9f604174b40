// Output-directory checks and the removal of a previous conversion's files.
#include "dataset_tools/output_dir.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "core/error.h"
#include "core/manifest.h"

namespace strike::data {

namespace fs = std::filesystem;

std::string shard_file_name(const std::string& split, int64_t index, int64_t count) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "-%05lld-of-%05lld.h5", static_cast<long long>(index), static_cast<long long>(count));
  return split + buffer;
}

namespace {

bool inside(const fs::path& child, const fs::path& parent) {
  auto c = fs::weakly_canonical(child), p = fs::weakly_canonical(parent);
  auto [pi, ci] = std::mismatch(p.begin(), p.end(), c.begin(), c.end());
  return pi == p.end();
}

}  // namespace

void check_output_dir(const std::string& output, const std::string& input, bool overwrite) {
  if (output.empty()) throw UsageError("no output directory given", "", "pass --output DIR");
  if (inside(output, input)) {
    throw UsageError("the output directory is inside the input directory", output,
                     "choose an --output outside " + input + " so the dataset is not read back as input");
  }
  if (fs::exists(output) && !fs::is_directory(output)) {
    throw UsageError("output path exists and is not a directory", output, "choose another --output");
  }
  if (!overwrite && fs::is_directory(output) && !fs::is_empty(output)) {
    throw UsageError("output directory is not empty", output,
                     "pass --overwrite to replace the dataset in it, or choose another --output");
  }
}

void prepare_output_dir(const std::string& output, const std::string& input, bool overwrite) {
  check_output_dir(output, input, overwrite);
  std::error_code ec;
  fs::create_directories(output, ec);
  if (ec) throw Error("cannot create the output directory: " + ec.message(), output, "check permissions");
  fs::remove(fs::path(output) / core::kManifestFile, ec);
  if (ec) throw Error("cannot remove the old manifest: " + ec.message(), output, "check permissions");
  // Shards, their temporary names, and the staging files of a text conversion that was killed.
  static const std::regex shard_name(
      R"((train|val|test)-\d{5}-of-\d{5}\.h5(\.tmp\..*)?|\.(tokens|index)(\.(train|val|test))?\.staging)");
  for (const auto& entry : fs::directory_iterator(output)) {
    if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), shard_name)) {
      fs::remove(entry.path(), ec);
      if (ec) throw Error("cannot remove old shard: " + ec.message(), entry.path().string(), "check permissions");
    }
  }
}

}  // namespace strike::data
