// Trainer: fit, validate and test a Task with checkpoints, early stopping and progress; same code for 1 or N ranks.
#pragma once
#include <nlohmann/json.hpp>

#include <atomic>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint.h"
#include "core/manifest.h"
#include "tasks/optim/mixed_precision.h"
#include "tasks/optim/optimizer.h"
#include "tasks/optim/scheduler.h"
#include "tasks/task.h"
#include "worker/comm/communicator.h"
#include "worker/comm/gradient_sync.h"
#include "worker/knn_monitor.h"
#include "worker/loader/loader.h"
#include "worker/progress.h"
#include "worker/report/reporter.h"
#include "worker/run_dir.h"

namespace strike::worker {

struct TrainerOptions {
  int64_t epochs = 3;                   // passes over the training split
  int64_t accumulate = 1;               // micro-batches per optimizer step (gradient accumulation)
  double grad_clip = 0.0;               // max global gradient norm; 0 = no clipping
  std::string monitor = "val_top1";     // metric that picks best.h5 and drives early stopping
  int64_t patience = 0;                 // epochs without improvement before stopping; 0 = never stop early
  int64_t keep_checkpoints = 3;         // epoch checkpoints kept on disk (best.h5 and last.h5 always); 0 = all
  int64_t checkpoint_every = 0;         // optimizer steps between mid-epoch saves of last.h5; 0 = at epoch ends only
  int64_t max_steps_per_epoch = 0;      // cap on training steps per epoch (smoke tests); 0 = whole epoch
  bool check_sync = false;              // after every step, verify by checksum that all ranks hold identical parameters
  GradientSyncOptions gradient_sync;    // buckets and wire format of the gradient all-reduce
  std::string precision = "32";         // 32, bf16-mixed (autocast to bf16) or 16-mixed (fp16 + loss scaling)
  int64_t knn_k = 20;                   // image_embedding: neighbours voting in the test (and val) kNN metrics; 0 = none
  int64_t knn_every = 0;                // image_embedding: epochs between val kNN metrics (a pass over train each); 0 = test only
  ProgressOptions progress;             // terminal progress display
};

// Where the trainer is and what it has seen; saved in every checkpoint, restored by --resume.
struct TrainerState {
  int64_t epoch = 0;                    // epochs completed
  int64_t step = 0;                     // optimizer steps completed
  double best = 0;                      // best monitored value so far
  int64_t best_epoch = 0;               // epoch that reached it (0 = none yet)
  double best_loss = std::numeric_limits<double>::infinity();  // that epoch's loss on the monitored split
  int64_t epochs_without_improvement = 0;
  double train_seconds = 0;             // time spent in training steps
  int64_t train_samples = 0;            // samples trained on by this rank
  std::vector<nlohmann::json> metric_rows;  // metrics.csv rows so far
  int64_t epoch_step = 0;               // steps done in the unfinished epoch (interrupted runs)
  nlohmann::json epoch_sums;            // its metric sums so far
  double epoch_seconds = 0;             // its training time so far
  nlohmann::json loss_scaler;           // 16-mixed: the dynamic loss scale and skipped steps
  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& j);
};

// What fit() and test() report.
struct EpochMetrics {
  std::map<std::string, double> values;  // e.g. "loss" -> 0.31, "top1" -> 0.89
  int64_t samples = 0;
  double seconds = 0;
};

class Trainer {
 public:
  Trainer(TrainerOptions options, tasks::Task& task, tasks::FlatParameters& params, tasks::Optimizer& optimizer,
          const tasks::Scheduler& scheduler, Communicator& comm, RunDir run_dir, const core::Manifest& manifest,
          std::string config_yaml, const std::atomic<bool>* stop = nullptr, torch::Device device = torch::kCPU,
          Reporter* reporter = nullptr);

  // Trains for the remaining epochs, validating after each, writing checkpoints and metrics.
  void fit(DataLoader& train, DataLoader* val);
  // Metrics of the current model over a whole split, reduced exactly over ranks.
  EpochMetrics evaluate(DataLoader& loader, const std::string& phase);
  // Restores model, optimizer, scheduler position and trainer state from a checkpoint.
  void resume(const std::string& checkpoint_path);
  // Loads only the model weights (e.g. best.h5 before testing).
  void load_weights(const std::string& checkpoint_path);

  // Embedding tasks: adds knn_top1 and recall_at_1 to test metrics, and to val's every knn_every epochs,
  // with `reference` (the train split, unshuffled, unaugmented) as the neighbours.
  void monitor_knn(DataLoader& reference);

  // Files written into every checkpoint from now on (see core::Checkpoint::assets).
  void attach_assets(std::map<std::string, std::string> assets) { assets_ = std::move(assets); }

  const TrainerState& state() const { return state_; }
  // Optimizer steps skipped because fp16 gradients overflowed (16-mixed only).
  int64_t skipped_steps() const { return scaler_.skipped_steps(); }
  // Training throughput of this run so far (all ranks), samples per second.
  double samples_per_sec() const;
  // Adds a metrics.csv row (e.g. the final test row) and rewrites the file.
  void record(const std::string& split, const EpochMetrics& metrics);

 private:
  EpochMetrics train_epoch(DataLoader& loader);
  void save_checkpoints(bool is_best);
  // Saves last.h5 in the middle of an epoch (rank 0 writes): `state` says where to resume.
  void save_mid_epoch(const TrainerState& state);
  core::Checkpoint make_checkpoint(const TrainerState& state) const;
  // Tells the launcher (if any) that `path` is complete.
  void report_checkpoint(const std::string& path, const TrainerState& state);
  // One batch of `phase` done: the terminal view on rank 0 alone, or the launcher's over the wire.
  void show_progress(const std::string& phase, int64_t epoch, int64_t done, int64_t total, double loss,
                     double accuracy, double samples_per_sec, double lr);
  bool improved(double value, double loss) const;  // `loss`: the monitored split's loss, for ties
  double initial_best() const;  // the worst value of the monitored metric
  bool val_knn_possible() const;  // an embedding task with val kNN metrics every epoch
  // Metric sums of this rank -> exact averages over all ranks.
  EpochMetrics reduce(const tasks::MetricSums& sums, double seconds);
  // Rank 0's parameters and buffers to every rank (start of training).
  void broadcast_model();
  // Rank 0's buffers (batch-norm statistics) to every rank, so evaluation and checkpoints agree.
  void broadcast_buffers();
  // Throws, naming the ranks, unless every rank's parameters are bitwise identical.
  void check_parameters_in_sync() const;
  // True on every rank when a stop signal reached any rank (all must stop at the same step).
  bool stop_requested_anywhere();

  TrainerOptions options_;
  tasks::Task& task_;
  tasks::FlatParameters& params_;
  tasks::Optimizer& optimizer_;
  const tasks::Scheduler& scheduler_;
  Communicator& comm_;
  RunDir run_dir_;
  const core::Manifest& manifest_;
  std::string config_yaml_;
  std::map<std::string, std::string> assets_;
  const std::atomic<bool>* stop_;
  torch::Device device_;  // where the model lives; batches are moved there
  Reporter* reporter_;
  Progress progress_;
  GradientSync gradient_sync_;
  tasks::Precision precision_;
  tasks::LossScaler scaler_;
  TrainerState state_;
  std::unique_ptr<KnnMonitor> knn_;
};

}  // namespace strike::worker
