// posix_spawn-based child processes with signal forwarding.
#include "launcher/spawn.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "core/env.h"
#include "core/error.h"

extern char** environ;

namespace strike::launcher {

namespace fs = std::filesystem;

namespace {
// The running child, for the signal handler; a handler can only reach a lock-free atomic.
std::atomic<pid_t> child_pid{-1};

void forward_signal(int signal) {
  pid_t pid = child_pid.load();
  if (pid > 0) ::kill(pid, signal);
}
}  // namespace

std::string worker_path() {
  const char* from_env = env::get(env::kWorkerPath, nullptr);
  if (from_env) return from_env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  fs::path candidate = ec ? fs::path("strike-worker") : self.parent_path() / "strike-worker";
  if (!fs::exists(candidate)) {
    throw Error("cannot find strike-worker", candidate.string(),
                std::string("build it next to `strike`, or set ") + env::kWorkerPath);
  }
  return candidate.string();
}

Child start_child(const std::vector<std::string>& argv, bool capture_output) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (capture_output && (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)) {
    const std::string reason = std::strerror(errno);
    for (int fd : {out[0], out[1]}) {
      if (fd >= 0) ::close(fd);
    }
    throw Error("cannot create pipes for a child's output: " + reason, argv[0]);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (capture_output) {
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  }
  // The child gets stdin, stdout and stderr only: not the launcher's listening socket, its
  // connections to ranks or its event log (Asio does not mark them close-on-exec).
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // The child gets its own process group, so a terminal's Ctrl-C reaches it once (forwarded by
  // us) rather than twice; a second SIGINT would make it stop without saving.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  Child child;
  int rc = posix_spawn(&child.pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (capture_output) {
    ::close(out[1]);
    ::close(err[1]);
    child.out_fd = out[0];
    child.err_fd = err[0];
  }
  if (rc != 0) {
    if (capture_output) {
      ::close(out[0]);
      ::close(err[0]);
    }
    throw Error(std::string("cannot start process: ") + std::strerror(rc), argv[0]);
  }
  return child;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitError;
}

int run_child(const std::vector<std::string>& argv) {
  const pid_t pid = start_child(argv, false).pid;
  child_pid.store(pid);
  struct sigaction action {}, old_int {}, old_term {};
  action.sa_handler = forward_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  child_pid.store(-1);
  return exit_code_of(status);
}

}  // namespace strike::launcher
