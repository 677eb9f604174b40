// strike-worker: one rank of a strike job (also runs alone, without any launcher).
#include <csignal>

#include "core/config.h"
#include "core/error.h"
#include "core/malloc_tuning.h"
#include "core/main_guard.h"
#include "worker/comm/communicator.h"
#include "worker/train_command.h"

namespace {

// Signal handlers can only touch a lock-free atomic; the trainer polls it after each step.
std::atomic<bool> stop_requested{false};

void on_signal(int signal) {
  stop_requested.store(true);
  // A second Ctrl-C means "now": the default action ends the process.
  std::signal(signal, SIG_DFL);
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
  std::unique_ptr<worker::Communicator> comm;
  const int code = core::guarded_main(worker::process_label(), [&] {
    const bool cuda = train_options.device == "cuda" || (train_options.device == "auto" && torch::cuda::is_available());
    comm = worker::make_communicator(&argc, &argv, cuda);
    return worker::run_train(train_options, *train, *comm, &stop_requested);
  });
  // A rank that failed alone would leave the others waiting in a collective forever: take the
  // whole job down with its exit code. (Interrupted ranks agreed to stop together and end normally.)
  if (comm && comm->size() > 1 && code != kExitOk && code != kExitInterrupted) {
    comm->abort(code, "rank " + std::to_string(comm->rank()) + " failed (exit " + std::to_string(code) + ")");
  }
  return code;
}
