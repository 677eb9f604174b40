// Filling slurm/train.sbatch (embedded at build time) with a job's options.
#include "slurm/sbatch_script.h"

#include <fmt/format.h>

#include "core/error.h"
#include "slurm/train_sbatch_template.h"

namespace strike::slurm {

namespace {

void replace_all(std::string& text, const std::string& key, const std::string& value) {
  const std::string marker = "{{" + key + "}}";
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + value.size())) {
    text.replace(at, marker.size(), value);
  }
}

// Slurm reads #SBATCH lines up to the first command, so a value with a newline would end them early.
void require_one_line(const std::string& value, const std::string& what) {
  require(value.find('\n') == std::string::npos, what + " must be one line");
}

}  // namespace

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                           std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string render_sbatch(const SbatchOptions& o, const std::string& strike_path, const std::string& run_dir,
                          const std::vector<std::string>& train_args, uint64_t seed) {
  require(o.nodes >= 1 && o.tasks_per_node >= 1, "--nodes and --tasks-per-node must be at least 1");
  require(o.signal_lead >= 1, "--signal-lead must be at least 1 second");
  require(o.launcher == "srun" || o.launcher == "mpirun", "--launcher must be srun or mpirun");
  for (const auto& [value, what] : std::vector<std::pair<std::string, std::string>>{
           {o.job_name, "--job-name"}, {o.time, "--time"}, {o.partition, "--partition"}, {o.account, "--account"},
           {o.qos, "--qos"}, {o.mem, "--mem"}, {o.constraint, "--constraint"}, {o.array, "--array"}, {run_dir, "--output"}}) {
    require_one_line(value, what);
  }
  std::string lines;
  auto line = [&](const std::string& flag, const std::string& value) {
    if (!value.empty()) lines += "#SBATCH " + flag + "=" + value + "\n";
  };
  if (o.gpus_per_node > 0) line("--gpus-per-node", std::to_string(o.gpus_per_node));
  if (o.cpus_per_task > 0) line("--cpus-per-task", std::to_string(o.cpus_per_task));
  line("--partition", o.partition);
  line("--account", o.account);
  line("--qos", o.qos);
  line("--mem", o.mem);
  line("--constraint", o.constraint);
  line("--array", o.array);
  for (const auto& extra : o.extra) {
    require_one_line(extra, "--sbatch");
    lines += "#SBATCH " + extra + "\n";
  }

  std::string args;
  for (size_t i = 0; i < train_args.size(); ++i) {
    // An array gives each trial its own seed below; the given one is the first trial's.
    if (!o.array.empty() && train_args[i] == "--seed") {
      ++i;
      continue;
    }
    if (!o.array.empty() && train_args[i].rfind("--seed=", 0) == 0) continue;
    args += shell_quote(train_args[i]) + " ";
  }
  std::string trial;
  if (o.array.empty()) {
    args += "--output " + shell_quote(run_dir);
  } else {
    // Every element of the array is a trial of its own: run directory trial-N, seed + N.
    trial = "trial=\"${SLURM_ARRAY_TASK_ID:-0}\"";
    args += "--output " + shell_quote(run_dir) + "/trial-\"$trial\" --seed \"$((" + std::to_string(seed) + " + trial))\"";
  }

  std::string script = kTrainSbatchTemplate;
  replace_all(script, "job_name", o.job_name);
  replace_all(script, "nodes", std::to_string(o.nodes));
  replace_all(script, "tasks_per_node", std::to_string(o.tasks_per_node));
  replace_all(script, "time", o.time);
  replace_all(script, "signal_lead", std::to_string(o.signal_lead));
  replace_all(script, "max_requeues", std::to_string(o.max_requeues));
  replace_all(script, "log", run_dir + (o.array.empty() ? "/slurm-%j.out" : "/slurm-%A_%a.out"));
  replace_all(script, "sbatch_lines", lines);
  replace_all(script, "trial", trial);
  replace_all(script, "strike", shell_quote(strike_path));
  replace_all(script, "train_args", args);
  replace_all(script, "ranks", std::to_string(o.nodes * o.tasks_per_node));
  replace_all(script, "launcher", o.launcher);
  return script;
}

}  // namespace strike::slurm
