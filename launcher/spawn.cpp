// The ranks' child processes, and signal forwarding while one runs.
#include "launcher/spawn.h"

#include <signal.h>

#include <atomic>
#include <cstring>
#include <filesystem>

#include "core/env.h"
#include "core/error.h"

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
  // Its own process group: a terminal's Ctrl-C reaches it once (forwarded by us) rather than twice; a
  // second SIGINT would make it stop without saving.
  core::SpawnOptions options;
  options.output = capture_output ? core::SpawnOptions::Output::kSeparate : core::SpawnOptions::Output::kInherit;
  options.own_process_group = true;
  Child child;
  if (const int rc = core::spawn(argv, options, child)) {
    throw Error(std::string("cannot start process: ") + std::strerror(rc), argv[0]);
  }
  return child;
}

int run_child(const std::vector<std::string>& argv) {
  const pid_t pid = start_child(argv, false).pid;
  child_pid.store(pid);
  struct sigaction action {}, old_int {}, old_term {};
  action.sa_handler = forward_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  const int code = core::wait_for_exit(pid);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  child_pid.store(-1);
  return code;
}

}  // namespace strike::launcher
