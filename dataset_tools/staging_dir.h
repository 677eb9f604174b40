// A conversion's private staging directory under $TMPDIR, and the removal of those that killed conversions left.
#pragma once
#include <string>

namespace strike::data {

// Created as $TMPDIR/<prefix>-<host>-<pid>-XXXXXX and removed, with everything in it, when destroyed.
// A conversion killed outright (SIGKILL, the out-of-memory killer) cannot remove its directory, and a
// CSV's staging is about the size of the CSV, so creating one first removes the directories with the
// same prefix that this host's processes left and that no longer run. Other hosts' directories (a
// shared TMPDIR) and those of running processes are left alone.
class StagingDir {
 public:
  explicit StagingDir(const std::string& prefix);  // e.g. "strike-csv"
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace strike::data
