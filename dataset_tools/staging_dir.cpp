// Staging directories under $TMPDIR, locked while in use, so that a later conversion can remove the abandoned ones.
#include "dataset_tools/staging_dir.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHint = "set TMPDIR to a writable directory with room for the conversion's staging files";

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown-host";
  for (char* c = name; *c; ++c) {
    if (*c == '/') *c = '_';
  }
  return name;
}

// True for "<owner>1234-XXXXXX" (a process id, then mkdtemp's six characters ending the name), so that
// the directories of a host named "<host>-2" are not taken for this host's.
bool named_like_ours(const std::string& name, const std::string& owner) {
  if (name.compare(0, owner.size(), owner) != 0) return false;
  size_t i = owner.size();
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  return i > owner.size() && i < name.size() && name[i] == '-' && name.size() - i - 1 == 6;
}

// Opens a directory (not a link to one) and takes its lock; -1 if it is in use or cannot be opened.
int lock_directory(const std::string& path, bool wait) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void remove_abandoned(const fs::path& root, const std::string& owner) {
  std::error_code error;
  for (fs::directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    struct stat info {};
    if (!named_like_ours(name, owner) || ::lstat(it->path().c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
        info.st_uid != ::geteuid()) {
      continue;
    }
    const int fd = lock_directory(it->path().string(), false);
    if (fd < 0) continue;  // in use
    std::error_code failed;
    fs::remove_all(it->path(), failed);
    ::close(fd);
    if (!failed) spdlog::info("removed {}, which a conversion that no longer runs left behind", it->path().string());
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
  remove_abandoned(root, owner);
  // Created under a name the removal skips, and locked, before it gets its own name: no other
  // conversion ever sees it unlocked.
  std::string creating = (root / (prefix + "-new-XXXXXX")).string();
  if (!mkdtemp(creating.data())) {
    throw Error("cannot create a temporary directory: " + std::string(std::strerror(errno)), creating, kHint);
  }
  lock_fd_ = lock_directory(creating, true);
  path_ = (root / (owner + std::to_string(::getpid()) + "-" + creating.substr(creating.size() - 6))).string();
  if (lock_fd_ < 0 || std::rename(creating.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    ::rmdir(creating.c_str());
    throw Error("cannot prepare a temporary directory: " + reason, creating, kHint);
  }
}

StagingDir::~StagingDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
  ::close(lock_fd_);
}

}  // namespace strike::data
