// Atomic file writing with fsync and rename; tree removal.
#include "core/fs.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace strike::core {

namespace fs = std::filesystem;

namespace {
void fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;  // best effort for directories on file systems without support
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

bool remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  // Depth first (children before their folder), without crossing symbolic links.
  auto remove_one = [](const char* entry, const struct stat*, int type, struct FTW*) {
    return (type == FTW_DP ? ::rmdir(entry) : ::unlink(entry)) == 0 || errno == ENOENT ? 0 : -1;
  };
  return ::nftw(path.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

std::string temporary_name(const std::string& path) {
  static std::atomic<int> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void commit_file(const std::string& tmp, const std::string& path) {
  fsync_path(tmp, false);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw Error("cannot rename " + tmp + " into place: " + reason, path);
  }
  auto parent = fs::path(path).parent_path();
  fsync_path(parent.empty() ? "." : parent.string(), true);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = temporary_name(path);
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw Error("cannot write file", tmp, "check that the directory exists and is writable");
    out << content;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("write failed (disk full?)", tmp);
    }
  }
  commit_file(tmp, path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read file", path, "check that it exists and is readable");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace strike::core
