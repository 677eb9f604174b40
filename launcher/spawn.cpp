// posix_spawn-based child processes with signal forwarding.
#include "launcher/spawn.h"

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
std::atomic<int> first_signal_replacement{0};  // taken (set to 0) by the first forwarded signal

void forward_signal(int signal) {
  pid_t pid = child_pid.load();
  const int replacement = first_signal_replacement.exchange(0);
  if (pid > 0) ::kill(pid, replacement != 0 ? replacement : signal);
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

int run_child(const std::vector<std::string>& argv, int first_signal_as) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The child gets its own process group, so a terminal's Ctrl-C reaches it once (forwarded by
  // us) rather than twice; a second SIGINT would make it stop without saving.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(std::string("cannot start process: ") + std::strerror(rc), argv[0]);
  first_signal_replacement.store(first_signal_as);
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
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitError;
}

}  // namespace strike::launcher
