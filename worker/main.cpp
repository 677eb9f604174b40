// strike-worker: one rank of a strike job (also runs alone, without any launcher).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <thread>

#include "core/config.h"
#include "core/error.h"
#include "core/malloc_tuning.h"
#include "core/main_guard.h"
#include "core/torch_main_guard.h"
#include "worker/comm/communicator.h"
#include "worker/report/reporter.h"
#include "worker/train_command.h"

namespace {

// Signal handlers can only touch a lock-free atomic; the trainer polls it after each step.
std::atomic<bool> stop_requested{false};
// Set when the rank stops because its launcher is gone: that is a failure, not an interruption.
std::atomic<bool> launcher_lost{false};

void on_signal(int) {
  stop_requested.store(true);
  // A second signal, of any of these kinds, means "now": the default action ends the process.
  for (int s : {SIGINT, SIGTERM, SIGUSR1}) std::signal(s, SIG_DFL);
}

strike::core::wire::Message hello(const strike::worker::Communicator& comm, const std::string& device) {
  strike::core::wire::Message m;
  m.type = strike::core::wire::MessageType::kHello;
  m.rank = comm.rank();
  m.world = comm.size();
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  m.host = host;
  m.pid = ::getpid();
  m.device = device;
  return m;
}

// Without its launcher the job has nobody to report to and nobody to restart it: stop at the next
// step with a checkpoint, and if a collective keeps this rank from getting there, end it anyway.
void on_launcher_lost(const std::string& why, double grace_seconds) {
  launcher_lost.store(true);
  spdlog::error("{}: stopping (the launcher is gone)", why);
  spdlog::default_logger()->flush();
  stop_requested.store(true);
  std::thread([grace_seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(grace_seconds));
    std::_Exit(strike::kExitError);
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace strike;
  core::keep_freed_memory_for_reuse();
  CLI::App app{"strike-worker: one rank of a strike job; `strike` starts it, or run it alone"};
  app.require_subcommand(1);
  worker::TrainCommandOptions train_options;
  CLI::App* train = core::add_configurable_subcommand(app, "train", "Train on this rank");
  worker::add_train_options(*train, train_options);
  if (int code = core::parse_command_line(app, argc, argv); code >= 0) return code;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // mpirun passes USR1 on to every rank (it turns INT and TERM into a kill), and Slurm sends it
  // ahead of a time limit: both mean "checkpoint at the next step and stop".
  std::signal(SIGUSR1, on_signal);
  // The launcher reads our output through a pipe; if it dies, writing a log line must not kill
  // the rank before it has saved its checkpoint.
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<worker::Communicator> comm;
  std::unique_ptr<worker::Reporter> reporter;
  std::string error;
  int code = core::guarded_torch_main(worker::process_label(), [&] {
    const bool cuda = train_options.device == "cuda" || (train_options.device == "auto" && torch::cuda::is_available());
    comm = worker::make_communicator(&argc, &argv, cuda);
    const std::string device = worker::choose_device(train_options.device, comm->local_rank()).str();
    const double grace = train_options.launch.heartbeat_timeout / 2;
    reporter = worker::Reporter::from_environment(hello(*comm, device),
                                                  [grace](const std::string& why) { on_launcher_lost(why, grace); });
    try {
      return worker::run_train(train_options, *train, *comm, &stop_requested, reporter.get());
    } catch (const std::exception& e) {
      error = e.what();
      throw;
    }
  });
  if (launcher_lost.load() && code == kExitInterrupted) code = kExitError;
  if (reporter) {
    if (!error.empty() && code != kExitInterrupted) {
      core::wire::Message m;
      m.type = core::wire::MessageType::kError;
      m.text = error;
      reporter->send(std::move(m));
    }
    reporter->finish(code);
  }
  // A rank that failed alone would leave the others waiting in a collective forever: take the
  // whole job down with its exit code. (Interrupted ranks agreed to stop together and end normally.)
  if (comm && comm->size() > 1 && code != kExitOk && code != kExitInterrupted) {
    comm->abort(code, "rank " + std::to_string(comm->rank()) + " failed (exit " + std::to_string(code) + ")");
  }
  return code;
}
