// events.jsonl: every event of a job (rank messages, faults, restarts), one JSON object per line.
#pragma once
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <string>

namespace strike::launcher {

class EventLog {
 public:
  // Appends to `path` (a restarted job continues the same file). Throws strike::Error if it cannot.
  explicit EventLog(const std::string& path);
  // Writes {"time": UTC ISO 8601, "elapsed": seconds since this log opened, "event": name, ...fields}
  // and flushes, so the file is current even if the launcher is killed.
  void write(const std::string& event, nlohmann::json fields = nlohmann::json::object());
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace strike::launcher
