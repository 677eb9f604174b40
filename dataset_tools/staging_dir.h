// A conversion's private staging directory under $TMPDIR, and the removal of those that killed conversions left.
#pragma once
#include <string>

namespace strike::data {

// Created as $TMPDIR/<prefix>-<host>-<pid>-XXXXXX (mode 0700) and removed, with everything in it, when
// destroyed; the process holds a lock on it (flock) while it exists. A conversion killed outright
// (SIGKILL, the out-of-memory killer) cannot remove its directory, and a CSV's staging is about the
// size of the CSV, so creating one first removes the directories with the same prefix and host that
// belong to this user and whose lock nobody holds: the kernel drops a lock when its process dies,
// whatever killed it and whichever PID namespace it ran in. Other hosts' directories (a shared TMPDIR),
// other users' and those in use are left alone.
class StagingDir {
 public:
  explicit StagingDir(const std::string& prefix);  // e.g. "strike-csv"
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int lock_fd_ = -1;  // the directory itself, open and flock'ed
};

}  // namespace strike::data
