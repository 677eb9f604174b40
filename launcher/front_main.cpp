// strike, the command users type: runs `strike data …` in strike-data and every other command in
// strike-app, both found next to itself. strike-data has no LibTorch in it, so data commands start in
// milliseconds rather than after LibTorch's ~0.6 s of loading. exec keeps the process id: signals from a
// terminal, a launcher or Slurm reach the command itself.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// The folder of this executable ("." when /proc is unavailable and argv[0] names no folder).
std::string own_folder(const char* argv0) {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  std::string path = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string(argv0 ? argv0 : "");
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

int main(int argc, char** argv) {
  const bool data = argc > 1 && std::strcmp(argv[1], "data") == 0;
  const std::string program = own_folder(argv[0]) + (data ? "/strike-data" : "/strike-app");
  ::execv(program.c_str(), argv);
  std::fprintf(stderr,
               "strike: error: cannot run %s: %s (strike, strike-app, strike-data and strike-worker belong in one "
               "folder: rebuild, or reinstall them together)\n",
               program.c_str(), std::strerror(errno));
  return 1;
}
