// The sbatch script of a strike training job: options and rendering of slurm/train.sbatch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strike::slurm {

struct SbatchOptions {
  std::string job_name = "strike";  // --job-name
  int nodes = 1;                    // --nodes
  int tasks_per_node = 1;           // --ntasks-per-node: ranks per node
  int gpus_per_node = 0;            // --gpus-per-node (0: none asked for)
  int cpus_per_task = 0;            // --cpus-per-task (0: Slurm's default)
  std::string time = "01:00:00";    // --time, the job's limit
  std::string partition;            // --partition (empty: the default one)
  std::string account;              // --account
  std::string qos;                  // --qos
  std::string mem;                  // --mem per node, e.g. 16G (empty: Slurm's default)
  std::string constraint;           // --constraint
  int signal_lead = 120;            // seconds before the time limit that Slurm sends USR1 (checkpoint + requeue)
  int max_requeues = 3;             // requeues after USR1 before the job is left to end
  std::string array;                // --array, e.g. 0-2: one trial per element (own run dir trial-N, seed + N)
  std::string launcher = "srun";    // how ranks start inside the allocation: srun (--mpi=pmix) or mpirun
  std::vector<std::string> extra;   // extra "#SBATCH ..." lines, e.g. "--exclusive"
};

// The script for `strike train <train_args>` writing into `run_dir`, run by `strike` at `strike_path`.
// `train_args` must not hold --output, --ranks or --launcher (the script sets them); with an array,
// `seed` is the first trial's seed. Throws UsageError for options that cannot make a valid script.
std::string render_sbatch(const SbatchOptions& options, const std::string& strike_path, const std::string& run_dir,
                          const std::vector<std::string>& train_args, uint64_t seed);

// `word` quoted for bash when it needs it.
std::string shell_quote(const std::string& word);

}  // namespace strike::slurm
