// How `strike train` starts its ranks: the worker alone, mpirun, or srun inside a Slurm allocation.
#pragma once
#include <string>
#include <vector>

#include "worker/train_command.h"

namespace strike::launcher {

// What the launch decision depends on besides the flags (read from the process; a struct so tests can fake it).
struct LaunchContext {
  bool in_slurm_allocation = false;  // SLURM_JOB_ID is set
  bool root = false;                 // running as root: Open MPI refuses unless told
  std::string mpirun;                // full path, empty when not installed
  std::string srun;
  std::vector<std::string> strike_env;  // names of the STRIKE_* variables set now: mpirun passes them to remote ranks
  static LaunchContext current();
};

// The full command line that runs `worker_args` (starting with "train") on every rank.
// One local rank runs the worker directly; otherwise mpirun (or srun, by --launcher or inside an
// allocation). Throws a UsageError naming what to install or change when that cannot work.
std::vector<std::string> rank_command(const worker::LaunchOptions& launch, int threads, const std::string& worker,
                                      const std::vector<std::string>& worker_args, const LaunchContext& context);

// `name` found on PATH, or empty.
std::string find_program(const std::string& name);

}  // namespace strike::launcher
