// Starting child processes with posix_spawn: the launcher's ranks and the Slurm client commands.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace strike::core {

// A started child process; with captured output, the read ends of its stdout and stderr (both on
// out_fd when merged), else -1.
struct Child {
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;
};

struct SpawnOptions {
  enum class Output { kInherit, kSeparate, kMerged };
  Output output = Output::kInherit;
  bool search_path = false;        // argv[0] is looked up on PATH, else it is the program's path
  bool own_process_group = false;  // the child leads its own process group
};

// Starts argv. The child inherits only stdin, stdout and stderr of this process's descriptors: not a
// listening socket, connections to ranks or an event log (Asio does not mark them close-on-exec).
// Returns 0, or the error that kept the program from starting (every pipe is closed then); callers
// word the message. Throws Error if the pipes cannot be created.
int spawn(const std::vector<std::string>& argv, const SpawnOptions& options, Child& child);

// Exit code from a waitpid status: the code, or 128 + the signal that ended it.
int exit_code_of(int wait_status);

// Waits for the child to end (through EINTR) and returns its exit code.
int wait_for_exit(pid_t pid);

}  // namespace strike::core
