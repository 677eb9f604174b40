// Staging directories under $TMPDIR named after their host and process, so a later one can remove the dead ones.
#include "dataset_tools/staging_dir.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHint = "set TMPDIR to a writable directory with about the CSV file's size free";

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown-host";
  for (char* c = name; *c; ++c) {
    if (*c == '/') *c = '_';
  }
  return name;
}

// The process id in "<owner>1234-XXXXXX" (mkdtemp's six characters end the name), or 0 when the name
// is not that: "host-2"'s directory is not taken for one of "host"'s.
pid_t owner_pid(const std::string& name, const std::string& owner) {
  if (name.compare(0, owner.size(), owner) != 0) return 0;
  size_t i = owner.size();
  long pid = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && pid < (1L << 30); ++i) pid = pid * 10 + (name[i] - '0');
  const bool ours = i > owner.size() && i < name.size() && name[i] == '-' && name.size() - i - 1 == 6;
  return ours ? static_cast<pid_t>(pid) : 0;
}

void remove_dead_ones(const fs::path& root, const std::string& owner) {
  std::error_code error;
  for (fs::directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    const pid_t pid = owner_pid(name, owner);
    if (pid <= 0 || !it->is_directory() || kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code failed;
    fs::remove_all(it->path(), failed);
    if (!failed) spdlog::info("removed {}: process {} left it and no longer runs", it->path().string(), pid);
  }
}

}  // namespace

StagingDir::StagingDir(const std::string& prefix) {
  std::error_code error;
  const fs::path root = fs::temp_directory_path(error);
  if (error) {
    const char* tmpdir = std::getenv("TMPDIR");
    throw Error("no temporary directory: " + error.message(), tmpdir ? tmpdir : "/tmp", kHint);
  }
  const std::string owner = prefix + "-" + host_name() + "-";
  remove_dead_ones(root, owner);
  path_ = (root / (owner + std::to_string(getpid()) + "-XXXXXX")).string();
  if (!mkdtemp(path_.data())) {
    throw Error("cannot create a temporary directory: " + std::string(std::strerror(errno)), path_, kHint);
  }
}

StagingDir::~StagingDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

}  // namespace strike::data
