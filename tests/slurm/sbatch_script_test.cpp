// The sbatch script strike writes: directives, quoting, arrays as trials, and what it refuses.
#include <gtest/gtest.h>

#include "core/error.h"
#include "slurm/sbatch_script.h"

namespace strike::slurm {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(SbatchScript, CarriesEveryOptionAsADirective) {
  SbatchOptions o;
  o.job_name = "fmnist";
  o.nodes = 2;
  o.tasks_per_node = 4;
  o.gpus_per_node = 4;
  o.cpus_per_task = 8;
  o.time = "08:00:00";
  o.partition = "gpu";
  o.account = "ml";
  o.qos = "high";
  o.mem = "64G";
  o.constraint = "a100";
  o.signal_lead = 300;
  o.max_requeues = 5;
  o.extra = {"--exclusive"};
  const std::string s = render_sbatch(o, "/opt/strike/bin/strike", "/runs/r8", {"--data", "/data/fmnist"}, 0);
  for (const char* line : {"#SBATCH --job-name=fmnist\n", "#SBATCH --nodes=2\n", "#SBATCH --ntasks-per-node=4\n",
                           "#SBATCH --gpus-per-node=4\n", "#SBATCH --cpus-per-task=8\n", "#SBATCH --time=08:00:00\n",
                           "#SBATCH --partition=gpu\n", "#SBATCH --account=ml\n", "#SBATCH --qos=high\n",
                           "#SBATCH --mem=64G\n", "#SBATCH --constraint=a100\n", "#SBATCH --signal=B:USR1@300\n",
                           "#SBATCH --requeue\n", "#SBATCH --output=/runs/r8/slurm-%j.out\n", "#SBATCH --exclusive\n"}) {
    EXPECT_TRUE(contains(s, line)) << line << " missing from:\n" << s;
  }
  EXPECT_TRUE(contains(s, "exec /opt/strike/bin/strike train --data /data/fmnist --output /runs/r8 --ranks 8 "
                          "--launcher srun --max-requeues 5\n"))
      << s;
  EXPECT_FALSE(contains(s, "{{")) << "a placeholder was left:\n" << s;
}

TEST(SbatchScript, LeavesOutWhatWasNotAskedFor) {
  const std::string s = render_sbatch(SbatchOptions{}, "strike", "/runs/a", {"--data", "d"}, 0);
  for (const char* flag : {"--partition", "--account", "--qos", "--mem=", "--constraint", "--gpus-per-node",
                           "--cpus-per-task", "--array"}) {
    EXPECT_FALSE(contains(s, flag)) << flag;
  }
}

TEST(SbatchScript, QuotesArgumentsForTheShell) {
  const std::string s =
      render_sbatch(SbatchOptions{}, "/path with space/strike", "/runs/it's", {"--data", "my data", "--lr", "0.1"}, 0);
  EXPECT_TRUE(contains(s, "exec '/path with space/strike' train --data 'my data' --lr 0.1 --output '/runs/it'\\''s'"))
      << s;
  EXPECT_EQ(shell_quote("plain-word_1.0"), "plain-word_1.0");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
}

TEST(SbatchScript, AnArrayMakesOneTrialPerElement) {
  SbatchOptions o;
  o.array = "0-2";
  const std::string s = render_sbatch(o, "strike", "/runs/sweep", {"--data", "d", "--seed", "7", "--epochs", "2"}, 7);
  EXPECT_TRUE(contains(s, "#SBATCH --array=0-2\n"));
  EXPECT_TRUE(contains(s, "#SBATCH --output=/runs/sweep/slurm-%A_%a.out\n"));
  EXPECT_TRUE(contains(s, "trial=\"${SLURM_ARRAY_TASK_ID:-0}\""));
  // The given seed is the first trial's; it appears once, as the trial's.
  EXPECT_TRUE(contains(s, "--data d --epochs 2 --output /runs/sweep/trial-\"$trial\" --seed \"$((7 + trial))\"")) << s;
  EXPECT_FALSE(contains(s, "--seed 7"));
}

TEST(SbatchScript, RefusesWhatWouldBreakTheScript) {
  SbatchOptions o;
  o.partition = "gpu\n#SBATCH --account=someone-else";
  EXPECT_THROW(render_sbatch(o, "strike", "/r", {"--data", "d"}, 0), UsageError);
  o = SbatchOptions{};
  o.launcher = "ssh";
  EXPECT_THROW(render_sbatch(o, "strike", "/r", {"--data", "d"}, 0), UsageError);
  o = SbatchOptions{};
  o.nodes = 0;
  EXPECT_THROW(render_sbatch(o, "strike", "/r", {"--data", "d"}, 0), UsageError);
}

}  // namespace
}  // namespace strike::slurm
