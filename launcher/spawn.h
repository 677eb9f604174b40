// Starting and waiting for child processes (the ranks), with Ctrl-C passed on to them.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace strike::launcher {

// Path of strike-worker: $STRIKE_WORKER, else next to the running `strike` executable.
std::string worker_path();

// A started child process: the leader of its own process group, so a terminal's Ctrl-C reaches it
// only through us. With captured output, its stdout and stderr arrive on the two pipes.
struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // read end of its stdout, or -1
  int err_fd = -1;  // read end of its stderr, or -1
};
// Starts `argv` (argv[0] is the program path); throws strike::Error naming the program if it cannot.
Child start_child(const std::vector<std::string>& argv, bool capture_output);
// Exit code from a waitpid status: the code, or 128 + the signal that ended it.
int exit_code_of(int wait_status);

// Runs `argv` (argv[0] is the program path) as a child, forwarding SIGINT/SIGTERM to it while it
// runs; returns its exit code (128 + signal number if a signal ended it).
int run_child(const std::vector<std::string>& argv);

}  // namespace strike::launcher
