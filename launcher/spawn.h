// Starting and waiting for child processes (the ranks), with Ctrl-C passed on to them.
#pragma once
#include <string>
#include <vector>

namespace strike::launcher {

// Path of strike-worker: $STRIKE_WORKER, else next to the running `strike` executable.
std::string worker_path();

// Runs `argv` (argv[0] is the program path) as a child, forwarding SIGINT/SIGTERM to it while it
// runs; returns its exit code (128 + signal number if a signal ended it). With `first_signal_as`
// the first forwarded signal is sent as that signal instead (e.g. SIGUSR1 for mpirun).
int run_child(const std::vector<std::string>& argv, int first_signal_as = 0);

}  // namespace strike::launcher
