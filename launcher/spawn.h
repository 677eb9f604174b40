// Starting and waiting for child processes (the ranks), with Ctrl-C passed on to them.
#pragma once
#include <string>
#include <vector>

#include "core/process.h"

namespace strike::launcher {

// Path of strike-worker: $STRIKE_WORKER, else next to the running `strike` executable.
std::string worker_path();

// A started rank: the leader of its own process group, so a terminal's Ctrl-C reaches it only through
// us. With captured output, its stdout and stderr arrive on the two pipes.
using core::Child;
using core::exit_code_of;
// Starts `argv` (argv[0] is the program path); throws strike::Error naming the program if it cannot.
Child start_child(const std::vector<std::string>& argv, bool capture_output);

// Runs `argv` (argv[0] is the program path) as a child, forwarding SIGINT/SIGTERM to it while it
// runs; returns its exit code (128 + signal number if a signal ended it).
int run_child(const std::vector<std::string>& argv);

}  // namespace strike::launcher
