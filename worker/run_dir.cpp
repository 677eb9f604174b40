// Run directory paths and atomic writers.
#include "worker/run_dir.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/checkpoint.h"
#include "core/fs.h"

namespace strike::worker {

namespace fs = std::filesystem;

RunDir::RunDir(std::string path) : path_(std::move(path)) {}

std::string RunDir::checkpoint_dir() const { return (fs::path(path_) / "checkpoints").string(); }
std::string RunDir::epoch_checkpoint(int64_t epoch) const {
  char name[32];
  std::snprintf(name, sizeof name, "epoch-%04ld.h5", epoch);
  return (fs::path(checkpoint_dir()) / name).string();
}
std::string RunDir::best_checkpoint() const { return (fs::path(checkpoint_dir()) / "best.h5").string(); }
std::string RunDir::last_checkpoint() const { return (fs::path(checkpoint_dir()) / "last.h5").string(); }
std::string RunDir::log_file(int rank) const {
  return (fs::path(path_) / "logs" / ("rank-" + std::to_string(rank) + ".log")).string();
}
std::string RunDir::config_file() const { return (fs::path(path_) / "config.yaml").string(); }
std::string RunDir::metrics_file() const { return (fs::path(path_) / "metrics.csv").string(); }
std::string RunDir::summary_file() const { return (fs::path(path_) / "summary.json").string(); }

void RunDir::create() const {
  fs::create_directories(checkpoint_dir());
  fs::create_directories(fs::path(path_) / "logs");
}

std::string RunDir::newest_complete_checkpoint() const {
  if (core::is_complete_checkpoint(last_checkpoint())) return last_checkpoint();
  std::vector<std::string> epochs;
  if (fs::is_directory(checkpoint_dir())) {
    for (const auto& entry : fs::directory_iterator(checkpoint_dir())) {
      std::string name = entry.path().filename().string();
      if (name.rfind("epoch-", 0) == 0 && entry.path().extension() == ".h5") epochs.push_back(entry.path().string());
    }
  }
  std::sort(epochs.rbegin(), epochs.rend());
  for (const auto& path : epochs) {
    if (core::is_complete_checkpoint(path)) return path;
  }
  return "";
}

void RunDir::prune_epoch_checkpoints(int64_t keep) const {
  if (keep <= 0 || !fs::is_directory(checkpoint_dir())) return;
  std::vector<fs::path> epochs;
  for (const auto& entry : fs::directory_iterator(checkpoint_dir())) {
    std::string name = entry.path().filename().string();
    if (name.rfind("epoch-", 0) == 0 && entry.path().extension() == ".h5") epochs.push_back(entry.path());
  }
  std::sort(epochs.begin(), epochs.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < epochs.size(); ++i) fs::remove(epochs[i]);
}

void RunDir::write_metrics(const std::vector<nlohmann::json>& rows, const std::vector<std::string>& columns) const {
  std::ostringstream out;
  out.precision(8);
  for (size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << columns[i];
  out << "\n";
  for (const auto& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) out << ",";
      if (!row.contains(columns[i])) continue;
      const auto& v = row[columns[i]];
      if (v.is_string()) out << v.get<std::string>();
      else if (v.is_number_float()) out << v.get<double>();
      else out << v.dump();
    }
    out << "\n";
  }
  core::write_file_atomically(metrics_file(), out.str());
}

void RunDir::write_summary(const nlohmann::json& summary) const {
  core::write_file_atomically(summary_file(), summary.dump(2) + "\n");
}

void RunDir::write_config(const std::string& yaml) const { core::write_file_atomically(config_file(), yaml); }

}  // namespace strike::worker
