// posix_spawn with pipes for the child's output, closed descriptors and an optional process group.
#include "core/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace strike::core {

int spawn(const std::vector<std::string>& argv, const SpawnOptions& options, Child& child) {
  using Output = SpawnOptions::Output;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  const auto close_all = [&] {
    for (int fd : {out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if ((options.output != Output::kInherit && ::pipe2(out, O_CLOEXEC) != 0) ||
      (options.output == Output::kSeparate && ::pipe2(err, O_CLOEXEC) != 0)) {
    const std::string reason = std::strerror(errno);
    close_all();
    throw Error("cannot create pipes for a child's output: " + reason, argv[0]);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.output != Output::kInherit) {
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, options.output == Output::kMerged ? out[1] : err[1], STDERR_FILENO);
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (options.own_process_group) {
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  const int rc = options.search_path ? posix_spawnp(&child.pid, args[0], &actions, &attr, args.data(), environ)
                                     : posix_spawn(&child.pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    close_all();
    return rc;
  }
  for (int* write_end : {&out[1], &err[1]}) {
    if (*write_end >= 0) ::close(*write_end);
  }
  child.out_fd = out[0];
  child.err_fd = err[0];
  return 0;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitError;
}

int wait_for_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return exit_code_of(status);
}

}  // namespace strike::core
