// Rank-aware logging: rank 0 speaks on the terminal, every rank writes its own log file.
#pragma once
#include <string>

namespace strike::core {

struct LogOptions {
  int rank = 0;                  // this process's rank; only rank 0 logs to the terminal
  std::string file;              // per-rank log file; empty = none
  std::string level = "info";    // terminal level: trace, debug, info, warn, error
};

// Installs the process's default spdlog logger. Called once from main() or a command.
void setup_logging(const LogOptions& options);

}  // namespace strike::core
