// `strike slurm`: writing and submitting sbatch scripts, and wrapping squeue, sacct, scancel and job logs.
#include "slurm/slurm_commands.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/process.h"
#include "slurm/sbatch_script.h"
#include "worker/train_command.h"

namespace strike::slurm {

namespace fs = std::filesystem;

namespace {

struct Captured {
  int code = 0;
  std::string out;  // stdout and stderr together
};

// Runs `argv` (found on PATH) and collects what it prints.
Captured run_program(const std::vector<std::string>& argv) {
  core::SpawnOptions options;
  options.output = core::SpawnOptions::Output::kMerged;
  options.search_path = true;
  core::Child child;
  if (const int rc = core::spawn(argv, options, child)) {
    throw Error(argv[0] + std::string(" is not available: ") + std::strerror(rc), "",
                "run this inside a Slurm cluster (its client commands on PATH)");
  }
  Captured result;
  char buffer[4096];
  for (ssize_t n; (n = ::read(child.out_fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.out.append(buffer, static_cast<size_t>(n));
  }
  ::close(child.out_fd);
  result.code = core::wait_for_exit(child.pid);
  return result;
}

// Runs a Slurm client command; its output, or an Error carrying that output.
std::string slurm_command(const std::vector<std::string>& argv) {
  Captured c = run_program(argv);
  if (c.code != 0) {
    throw Error(argv[0] + " failed (exit " + std::to_string(c.code) + "): " + c.out, "",
                "check the job id and that slurmctld is reachable (sinfo)");
  }
  return c.out;
}

struct SubmitRequest {
  SbatchOptions sbatch;
  std::string output;                   // run directory (required)
  std::vector<std::string> train_args;  // what follows `--`: flags of `strike train`
};

void add_sbatch_options(CLI::App& app, SubmitRequest& r) {
  SbatchOptions& o = r.sbatch;
  app.add_option("--output", r.output, "Run directory of the job (trial-N below it for an array)")->required();
  app.add_option("--job-name", o.job_name, "Slurm job name");
  app.add_option("--nodes", o.nodes, "Nodes")->check(CLI::PositiveNumber);
  app.add_option("--tasks-per-node", o.tasks_per_node, "Ranks per node")->check(CLI::PositiveNumber);
  app.add_option("--gpus-per-node", o.gpus_per_node, "GPUs per node (0: none asked for)")->check(CLI::NonNegativeNumber);
  app.add_option("--cpus-per-task", o.cpus_per_task, "CPUs per rank (0: Slurm's default)")->check(CLI::NonNegativeNumber);
  app.add_option("--time", o.time, "Time limit (Slurm format, e.g. 1-00:00:00)");
  app.add_option("--partition", o.partition, "Partition (empty: the default)");
  app.add_option("--account", o.account, "Account to charge");
  app.add_option("--qos", o.qos, "Quality of service");
  app.add_option("--mem", o.mem, "Memory per node, e.g. 32G (empty: Slurm's default)");
  app.add_option("--constraint", o.constraint, "Node features required");
  app.add_option("--signal-lead", o.signal_lead, "Seconds before the time limit that USR1 asks for a checkpoint and requeue")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-requeues", o.max_requeues, "Requeues after USR1 before the job is left to end")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--array", o.array, "Job array indices, e.g. 0-2: one trial per element (seed + index)");
  app.add_option("--launcher", o.launcher, "How ranks start in the allocation: srun (--mpi=pmix) or mpirun")
      ->check(CLI::IsMember({"srun", "mpirun"}));
  app.add_option("--sbatch", o.extra, "Extra #SBATCH line (repeatable), e.g. --sbatch=--exclusive")
      ->allow_extra_args(false);
  app.footer("Then -- and the flags of `strike train` (for example: -- --data data/fmnist --epochs 5).");
}

std::vector<std::string> required_train_args(const std::vector<std::string>& args) {
  require(!args.empty(), "no training flags: add -- and the flags of `strike train` (at least --data)");
  return args;
}

// Checks the training flags as `strike train` would, before anything reaches Slurm.
worker::TrainCommandOptions parse_train_args(const std::vector<std::string>& train_args) {
  for (const char* owned : {"--output", "--ranks", "--launcher", "--max-requeues"}) {
    for (const auto& a : train_args) {
      if (a == owned || a.rfind(std::string(owned) + "=", 0) == 0) {
        throw UsageError(std::string(owned) + " after -- is set by `strike slurm`", "",
                         "give --output, --nodes/--tasks-per-node and --launcher before the --");
      }
    }
  }
  worker::TrainCommandOptions options;
  CLI::App app{"strike train"};
  worker::add_train_options(app, options);
  std::vector<std::string> reversed(train_args.rbegin(), train_args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string("the training flags after -- are wrong: ") + e.what(), "",
                     "check them with `strike train --help`");
  }
  return options;
}

// The `strike` front next to this executable (strike-app), which the batch script runs as users would.
std::string strike_executable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "strike";
  const fs::path front = self.parent_path() / "strike";
  return fs::exists(front, ec) ? front.string() : self.string();
}

std::string render(const SubmitRequest& r, const std::string& run_dir) {
  worker::TrainCommandOptions train = parse_train_args(r.train_args);
  return render_sbatch(r.sbatch, strike_executable(), run_dir, r.train_args, train.seed);
}

void add_script(CLI::App& slurm, const std::vector<std::string>& train_args) {
  auto r = std::make_shared<SubmitRequest>();
  CLI::App* sub = core::add_configurable_subcommand(slurm, "script", "Print the sbatch script of a training job");
  add_sbatch_options(*sub, *r);
  sub->callback([r, &train_args] {
    r->train_args = required_train_args(train_args);
    std::cout << render(*r, fs::absolute(r->output).string());
  });
}

void add_submit(CLI::App& slurm, const std::vector<std::string>& train_args) {
  auto r = std::make_shared<SubmitRequest>();
  CLI::App* sub = core::add_configurable_subcommand(slurm, "submit",
    "Write the job's sbatch script into its run directory, submit it, print the job id");
  add_sbatch_options(*sub, *r);
  sub->callback([r, &train_args] {
    r->train_args = required_train_args(train_args);
    const std::string run_dir = fs::absolute(r->output).string();
    const std::string script = render(*r, run_dir);
    fs::create_directories(run_dir);
    const std::string path = (fs::path(run_dir) / "job.sbatch").string();
    core::write_file_atomically(path, script);
    fs::permissions(path, fs::perms::owner_exec, fs::perm_options::add);
    std::string id = slurm_command({"sbatch", "--parsable", path});
    id = id.substr(0, id.find_first_of(";\n"));  // "--parsable" prints "ID" or "ID;cluster"
    std::ofstream(fs::path(run_dir) / "slurm-jobs.txt", std::ios::app) << id << "\n";
    std::cout << id << std::endl;
  });
}

void add_job_command(CLI::App& slurm, const std::string& name, const std::string& description,
                     void (*action)(const std::string& job)) {
  auto job = std::make_shared<std::string>();
  CLI::App* sub = slurm.add_subcommand(name, description);
  sub->add_option("job", *job, "Slurm job id (ARRAYID_INDEX for one array element)")->required();
  sub->callback([job, action] { action(*job); });
}

void status(const std::string& job) {
  // squeue knows pending and running jobs; sacct (with accounting) also finished ones.
  Captured queued = run_program({"squeue", "--noheader", "-j", job, "-o", "%i %j %T %M %l %D %R"});
  if (queued.code == 0 && !queued.out.empty()) {
    std::cout << "JOBID NAME STATE TIME LIMIT NODES REASON\n" << queued.out;
    return;
  }
  // Recently ended jobs: slurmctld still knows them (MinJobAge); older ones only accounting does.
  Captured shown = run_program({"scontrol", "-o", "show", "job", job});
  if (shown.code == 0 && shown.out.find("JobState=") != std::string::npos) {
    for (const char* field : {"JobId=", "JobName=", "JobState=", "ExitCode=", "RunTime=", "Restarts="}) {
      const size_t at = shown.out.find(std::string(" ") + field);
      const size_t from = at == std::string::npos ? shown.out.find(field) : at + 1;
      if (from != std::string::npos) std::cout << shown.out.substr(from, shown.out.find(' ', from) - from) << " ";
    }
    std::cout << "\n";
    return;
  }
  Captured done = run_program({"sacct", "-X", "-n", "-j", job, "-o", "JobID,JobName,State,ExitCode,Elapsed"});
  if (done.code == 0 && !done.out.empty()) {
    std::cout << done.out;
    return;
  }
  throw Error("Slurm knows no job " + job + " (neither squeue nor sacct)", "", "check the id: `strike slurm submit` printed it");
}

void cancel(const std::string& job) {
  slurm_command({"scancel", job});
  std::cout << "cancelled " << job << std::endl;
}

void logs(const std::string& job) {
  const std::string shown = slurm_command({"scontrol", "show", "job", job});
  const size_t at = shown.find("StdOut=");
  if (at == std::string::npos) throw Error("scontrol shows no log file for job " + job);
  const std::string path = shown.substr(at + 7, shown.find_first_of(" \n", at) - at - 7);
  std::cout << core::read_file(path);
}

}  // namespace

std::vector<std::string> split_train_args(int& argc, char** argv) {
  std::vector<std::string> rest;
  if (argc < 2 || std::string(argv[1]) != "slurm") return rest;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) != "--") continue;
    rest.assign(argv + i + 1, argv + argc);
    argc = i;
    break;
  }
  return rest;
}

void add_slurm_commands(CLI::App& parent, const std::vector<std::string>& train_args) {
  CLI::App* slurm = parent.add_subcommand("slurm", "Slurm batch jobs: script, submit, status, cancel, logs");
  slurm->require_subcommand(1);
  add_script(*slurm, train_args);
  add_submit(*slurm, train_args);
  add_job_command(*slurm, "status", "State of a job (squeue; once it has ended scontrol, then sacct)", status);
  add_job_command(*slurm, "cancel", "Cancel a job (scancel)", cancel);
  add_job_command(*slurm, "logs", "Print a job's log file", logs);
}

}  // namespace strike::slurm
