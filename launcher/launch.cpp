// Building the mpirun / srun command line for a multi-rank job.
#include "launcher/launch.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/error.h"

extern char** environ;

namespace strike::launcher {

namespace fs = std::filesystem;

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) != 0) continue;
    // Open MPI derives its install prefix from the directory mpirun was started from: through
    // Debian's /bin -> /usr/bin link that prefix would be "/", which mpirun rejects.
    std::error_code ec;
    fs::path real_dir = fs::canonical(dir, ec);
    return (ec ? candidate : real_dir / name).string();
  }
  return "";
}

LaunchContext LaunchContext::current() {
  LaunchContext c;
  c.in_slurm_allocation = std::getenv("SLURM_JOB_ID") != nullptr;
  c.root = ::geteuid() == 0;
  c.mpirun = find_program("mpirun");
  c.srun = find_program("srun");
  for (char** e = environ; *e != nullptr; ++e) {
    const char* equals = std::strchr(*e, '=');
    if (std::strncmp(*e, "STRIKE_", 7) == 0 && equals != nullptr) c.strike_env.emplace_back(*e, equals - *e);
  }
  return c;
}

namespace {

std::vector<std::string> mpirun_prefix(const worker::LaunchOptions& o, int threads, const LaunchContext& c) {
  if (c.mpirun.empty()) {
    throw UsageError("--ranks " + std::to_string(o.ranks) + " needs mpirun, which is not on PATH", "",
                     "install Open MPI (Debian: apt-get install openmpi-bin), or train with --ranks 1");
  }
  std::vector<std::string> cmd{c.mpirun, "-np", std::to_string(o.ranks)};
  if (c.root) cmd.push_back("--allow-run-as-root");
  if (!o.hosts.empty()) {
    cmd.insert(cmd.end(), {"--host", o.hosts});
  } else if (!o.hostfile.empty()) {
    cmd.insert(cmd.end(), {"--hostfile", o.hostfile});
  } else {
    // On one host more ranks than cores is slow but legitimate (tests, debugging).
    cmd.push_back("--oversubscribe");
  }
  // Open MPI pins each rank to one core by default (for up to 2 ranks): right for one thread per
  // rank, wrong for several, which would then share that core.
  if (threads > 1) cmd.insert(cmd.end(), {"--bind-to", "none"});
  // Ranks on this host inherit the environment; those on other hosts get only what -x names
  // (the coordination server's address and token among them).
  for (const auto& name : c.strike_env) cmd.insert(cmd.end(), {"-x", name});
  return cmd;
}

std::vector<std::string> srun_prefix(const worker::LaunchOptions& o, const LaunchContext& c) {
  if (c.srun.empty()) {
    throw UsageError("--launcher srun: srun is not on PATH", "", "run inside a Slurm allocation, or use --launcher mpirun");
  }
  if (!o.hosts.empty() || !o.hostfile.empty()) {
    throw UsageError("--hosts/--hostfile do not apply to srun: Slurm places the ranks", "",
                     "drop them, or use --launcher mpirun");
  }
  return {c.srun, "--mpi=pmix", "--ntasks", std::to_string(o.ranks)};
}

}  // namespace

std::vector<std::string> rank_command(const worker::LaunchOptions& o, int threads, const std::string& worker,
                                      const std::vector<std::string>& worker_args, const LaunchContext& c) {
  if (!o.hosts.empty() && !o.hostfile.empty()) {
    throw UsageError("--hosts and --hostfile both given", "", "use one of them");
  }
  const bool use_srun = o.launcher == "srun" || (o.launcher == "auto" && c.in_slurm_allocation);
  const bool alone = o.ranks == 1 && o.hosts.empty() && o.hostfile.empty() && o.launcher != "mpirun" && !use_srun;
  std::vector<std::string> cmd;
  if (!alone) cmd = use_srun ? srun_prefix(o, c) : mpirun_prefix(o, threads, c);
  cmd.push_back(worker);
  cmd.insert(cmd.end(), worker_args.begin(), worker_args.end());
  return cmd;
}

}  // namespace strike::launcher
