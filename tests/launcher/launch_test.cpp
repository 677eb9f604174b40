// The command line `strike train` builds to start its ranks, for each launcher and the errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "launcher/launch.h"

namespace strike::launcher {
namespace {

const std::vector<std::string> kArgs = {"train", "--data", "d"};

LaunchContext machine() {
  LaunchContext c;
  c.mpirun = "/usr/bin/mpirun";
  c.srun = "/usr/bin/srun";
  return c;
}

worker::LaunchOptions ranks(int n) {
  worker::LaunchOptions o;
  o.ranks = n;
  return o;
}

bool has(const std::vector<std::string>& cmd, const std::vector<std::string>& run) {
  return std::search(cmd.begin(), cmd.end(), run.begin(), run.end()) != cmd.end();
}

TEST(Launch, OneRankRunsTheWorkerDirectly) {
  auto cmd = rank_command(ranks(1), 0, "/w", kArgs, machine());
  EXPECT_EQ(cmd, (std::vector<std::string>{"/w", "train", "--data", "d"}));
}

TEST(Launch, SeveralRanksUseMpirunOnThisHost) {
  auto cmd = rank_command(ranks(4), 0, "/w", kArgs, machine());
  EXPECT_EQ(cmd.front(), "/usr/bin/mpirun");
  EXPECT_TRUE(has(cmd, {"-np", "4"}));
  EXPECT_TRUE(has(cmd, {"--oversubscribe"}));
  EXPECT_FALSE(has(cmd, {"--allow-run-as-root"}));
  EXPECT_FALSE(has(cmd, {"--bind-to", "none"}));  // one thread per rank: Open MPI's core binding is right
  EXPECT_TRUE(has(cmd, {"/w", "train", "--data", "d"}));
}

TEST(Launch, RootThreadsAndHosts) {
  LaunchContext c = machine();
  c.root = true;
  worker::LaunchOptions o = ranks(8);
  o.hosts = "a:4,b:4";
  auto cmd = rank_command(o, 2, "/w", kArgs, c);
  EXPECT_TRUE(has(cmd, {"--allow-run-as-root"}));
  EXPECT_TRUE(has(cmd, {"--host", "a:4,b:4"}));
  EXPECT_TRUE(has(cmd, {"--bind-to", "none"}));
  EXPECT_FALSE(has(cmd, {"--oversubscribe"}));  // on real hosts, slots are the user's statement
  o.hosts.clear();
  o.hostfile = "hosts.txt";
  EXPECT_TRUE(has(rank_command(o, 0, "/w", kArgs, c), {"--hostfile", "hosts.txt"}));
  // One rank on a named host still goes through mpirun.
  worker::LaunchOptions remote = ranks(1);
  remote.hosts = "a:1";
  EXPECT_EQ(rank_command(remote, 0, "/w", kArgs, c).front(), "/usr/bin/mpirun");
}

TEST(Launch, InsideASlurmAllocationSrunStartsTheRanks) {
  LaunchContext c = machine();
  c.in_slurm_allocation = true;
  auto cmd = rank_command(ranks(2), 0, "/w", kArgs, c);
  EXPECT_EQ(cmd.front(), "/usr/bin/srun");
  EXPECT_TRUE(has(cmd, {"--mpi=pmix"}));
  EXPECT_TRUE(has(cmd, {"--ntasks", "2"}));
  worker::LaunchOptions o = ranks(2);
  o.launcher = "mpirun";  // the user's choice wins
  EXPECT_EQ(rank_command(o, 0, "/w", kArgs, c).front(), "/usr/bin/mpirun");
}

TEST(Launch, ImpossibleLaunchesAreUsageErrors) {
  LaunchContext none;  // neither mpirun nor srun installed
  EXPECT_THROW(rank_command(ranks(2), 0, "/w", kArgs, none), UsageError);
  EXPECT_NO_THROW(rank_command(ranks(1), 0, "/w", kArgs, none));  // one rank needs no MPI
  worker::LaunchOptions both = ranks(2);
  both.hosts = "a:1,b:1";
  both.hostfile = "f";
  EXPECT_THROW(rank_command(both, 0, "/w", kArgs, machine()), UsageError);
  worker::LaunchOptions srun_hosts = ranks(2);
  srun_hosts.launcher = "srun";
  srun_hosts.hosts = "a:1";
  EXPECT_THROW(rank_command(srun_hosts, 0, "/w", kArgs, machine()), UsageError);
  LaunchContext no_srun = machine();
  no_srun.srun.clear();
  worker::LaunchOptions srun = ranks(2);
  srun.launcher = "srun";
  EXPECT_THROW(rank_command(srun, 0, "/w", kArgs, no_srun), UsageError);
}

TEST(Launch, FindsProgramsOnPath) {
  EXPECT_FALSE(find_program("sh").empty());
  EXPECT_TRUE(find_program("no-such-program-strike").empty());
}

}  // namespace
}  // namespace strike::launcher
