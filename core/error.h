// Error types: every failure carries what went wrong, where, and what to do about it.
#pragma once
#include <stdexcept>
#include <string>

namespace strike {

// A runtime failure: bad data, an unreadable file, a failed call. Exit code 1.
class Error : public std::runtime_error {
 public:
  // `where`: the file (and line/rank where known); `hint`: what the user can do.
  Error(const std::string& what, const std::string& where = "", const std::string& hint = "");
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string where_;
  std::string hint_;
};

// A wrong flag, option value or command line. Exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// The run was interrupted by SIGINT/SIGTERM after saving its state. Exit code 130.
class Interrupted : public Error {
 public:
  using Error::Error;
};

// Exit codes shared by every executable.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

// Throws UsageError unless `condition` holds.
void require(bool condition, const std::string& what, const std::string& hint = "");

}  // namespace strike
