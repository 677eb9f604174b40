// Shard-by-shard checks; each failure is recorded and checking goes on, so one run lists them all.
#include "dataset_tools/verify.h"

#include <filesystem>

#include "core/checksum.h"
#include "core/error.h"
#include "core/manifest.h"
#include "core/shard.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

// Labels are read in blocks so a huge shard does not need its whole label array at once.
void check_labels(const core::ShardReader& reader, const core::FieldSpec& label, int64_t classes,
                  const std::string& path, std::vector<std::string>& problems) {
  constexpr int64_t kBlock = 1 << 20;
  std::vector<int64_t> labels;
  for (int64_t start = 0; start < reader.rows(); start += kBlock) {
    const int64_t count = std::min(kBlock, reader.rows() - start);
    labels.resize(static_cast<size_t>(count));
    reader.read(label, start, count, labels.data());
    for (int64_t i = 0; i < count; ++i) {
      if (labels[i] < 0 || labels[i] >= classes) {
        problems.push_back(path + ": row " + std::to_string(start + i) + " has label " + std::to_string(labels[i]) +
                           ", outside [0, " + std::to_string(classes) + ")");
        return;  // one is enough to condemn the shard
      }
    }
  }
}

void check_shard(const core::Manifest& m, const core::ShardInfo& shard, const std::string& dir,
                 std::vector<std::string>& problems) {
  const std::string path = (fs::path(dir) / shard.file).string();
  if (!fs::is_regular_file(path)) {
    problems.push_back(path + ": missing");
    return;
  }
  const int64_t size = static_cast<int64_t>(fs::file_size(path));
  if (shard.bytes > 0 && size != shard.bytes) {
    problems.push_back(path + ": " + std::to_string(size) + " bytes, the manifest says " + std::to_string(shard.bytes) +
                       (size < shard.bytes ? " (truncated)" : ""));
  }
  try {
    if (!shard.checksum.empty()) {
      std::string actual = core::file_checksum(path);
      if (actual != shard.checksum) {
        problems.push_back(path + ": checksum " + actual + ", the manifest says " + shard.checksum + " (damaged)");
      }
    }
    core::ShardReader reader(path, m.fields);
    if (reader.rows() != shard.samples) {
      problems.push_back(path + ": " + std::to_string(reader.rows()) + " rows, the manifest says " +
                         std::to_string(shard.samples));
    }
    for (const auto& field : m.fields) {
      if (field.ragged()) reader.check_offsets(field);
      if (field.name == "label" && !m.class_names.empty()) {
        check_labels(reader, field, static_cast<int64_t>(m.class_names.size()), path, problems);
      }
    }
  } catch (const Error& e) {
    // Errors raised for this shard already start with its path.
    problems.push_back(e.where().empty() ? path + ": " + e.what() : std::string(e.what()));
  }
}

}  // namespace

VerifyReport verify(const std::string& dir) {
  VerifyReport report;
  core::Manifest m;
  try {
    m = core::Manifest::load(dir);
  } catch (const Error& e) {
    report.ok = false;
    report.problems.push_back(e.what());
    return report;
  }
  for (const auto& split : m.splits) {
    for (const auto& shard : split.shards) check_shard(m, shard, dir, report.problems);
  }
  report.ok = report.problems.empty();
  return report;
}

}  // namespace strike::data
