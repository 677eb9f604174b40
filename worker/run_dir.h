// The run directory: where a training run leaves its checkpoints, metrics, config, logs and summary.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace strike::worker {

// Layout:
//   config.yaml            resolved options of the run
//   metrics.csv            one row per epoch and split
//   summary.json           written last, when the run has finished
//   checkpoints/epoch-NNNN.h5, checkpoints/best.h5, checkpoints/last.h5
//   logs/rank-N.log
class RunDir {
 public:
  explicit RunDir(std::string path);
  const std::string& path() const { return path_; }
  std::string checkpoint_dir() const;
  std::string epoch_checkpoint(int64_t epoch) const;
  std::string best_checkpoint() const;
  std::string last_checkpoint() const;
  std::string log_file(int rank) const;
  std::string config_file() const;
  std::string metrics_file() const;
  std::string summary_file() const;

  // Creates the directories (rank 0 only writes files into them).
  void create() const;
  // Newest complete checkpoint among last.h5 and epoch-*.h5 (empty if none).
  std::string newest_complete_checkpoint() const;
  // Deletes epoch checkpoints beyond the newest `keep` ones (0 keeps all).
  void prune_epoch_checkpoints(int64_t keep) const;

  // metrics.csv is rewritten whole and atomically from the rows kept in trainer state, so a
  // resumed run never holds rows from epochs it has redone.
  void write_metrics(const std::vector<nlohmann::json>& rows, const std::vector<std::string>& columns) const;
  void write_summary(const nlohmann::json& summary) const;
  void write_config(const std::string& yaml) const;

 private:
  std::string path_;
};

}  // namespace strike::worker
