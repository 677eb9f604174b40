// `train`: options and the whole run, from a dataset directory to a finished run directory.
#pragma once
#include <CLI/CLI.hpp>

#include <atomic>
#include <string>

#include "tasks/optim/optimizer.h"
#include "tasks/optim/scheduler.h"
#include "tasks/task.h"
#include "worker/comm/communicator.h"
#include "worker/report/reporter.h"
#include "worker/trainer.h"

namespace strike::worker {

// How `strike train` starts the ranks (strike-worker reads these only to check its world size).
struct LaunchOptions {
  int ranks = 1;                 // ranks (processes) in the job
  std::string hosts;             // mpirun --host list, e.g. "a:4,b:4" (empty: this host)
  std::string hostfile;          // mpirun --hostfile (empty: none)
  std::string launcher = "auto";  // auto (srun inside a Slurm allocation, else mpirun), mpirun, srun
  int max_restarts = 0;           // restarts of a failed job from its newest complete checkpoint
  int max_requeues = 3;           // inside Slurm: requeues of the job on USR1 (time limit, preemption)
  double stall_timeout = 300;     // seconds a rank may make no progress before the job is torn down
  double heartbeat_timeout = 10;  // seconds of silence after which a rank, or (for the ranks) the launcher, is lost
  std::string coord_host = "auto";  // address the ranks reach the launcher at; auto: 127.0.0.1 on one host, else this host's name
  int coord_port = 0;             // the launcher's coordination port; 0 = any free port
};

struct TrainCommandOptions {
  std::string data;                 // dataset directory made by `strike data convert` (required)
  std::string output;               // run directory; empty = runs/<task>-<backbone>-<date>-<time>
  tasks::ModelOptions model;        // --task, --backbone, --head, --stem, --label-smoothing, --dropout
  tasks::OptimizerOptions optimizer;  // --optimizer, --lr, --weight-decay, --momentum, --nesterov, ...
  tasks::SchedulerOptions scheduler;  // --schedule, --warmup-steps, --min-lr-ratio, ...
  TrainerOptions trainer;           // --epochs, --accumulate, --grad-clip, --monitor, --patience, ...
  int64_t batch_size = 128;         // samples per step per rank
  int64_t eval_batch_size = 512;    // samples per step when validating and testing
  bool augment = false;             // random crop (padding 4) and horizontal flip on training batches
  int64_t bucket_batches = 50;      // text training: rows sorted by length in pools of this many global batches (0: off)
  uint64_t seed = 0;                // seeds weights, data order and augmentation
  int threads = 0;                  // intra-op threads per rank; 0 = this host's cores / its ranks
  std::string device = "auto";      // cpu, cuda, or auto (cuda when LibTorch sees a GPU); rank i uses GPU local_rank
  bool sync_batchnorm = false;      // batch-norm statistics over the global batch (all ranks) while training
  LaunchOptions launch;             // --ranks, --hosts, --hostfile, --launcher
  std::string resume;               // "last" = newest complete checkpoint in --output, or a checkpoint path
  std::string init_backbone;        // start the backbone from this checkpoint's backbone.* (e.g. a classifier's)
  bool test = true;                 // evaluate best.h5 on the test split when training ends
  bool verify_data = true;          // check shard checksums before reading
  std::string log_level = "info";   // terminal log level
};

// runs/<task>-<backbone>-<date>-<time>: the run directory when --output is not given.
std::string default_output(const TrainCommandOptions& options);

// Registers every flag of `train` on `app` (shared by `strike train` and `strike-worker train`).
void add_train_options(CLI::App& app, TrainCommandOptions& options);

// Runs training on this rank; returns the process exit code. `app` supplies the resolved config.
// `reporter` (may be null) carries progress and checkpoint events to the launcher.
int run_train(TrainCommandOptions options, const CLI::App& app, Communicator& comm, const std::atomic<bool>* stop,
              Reporter* reporter = nullptr);

// Intra-op threads for a rank: `requested`, or the cores this process may use divided by `local_ranks`.
int choose_threads(int requested, int local_ranks);

// The device a rank trains on: CPU, or the GPU numbered local_rank modulo the GPUs it sees.
// Throws a UsageError when CUDA is requested and there is none.
torch::Device choose_device(const std::string& requested, int local_rank);

}  // namespace strike::worker
