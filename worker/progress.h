// Training progress for people: a live bar on a terminal, plain periodic lines otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace strike::worker {

struct ProgressOptions {
  std::string mode = "auto";     // "bar", "plain", "none" or "auto" (bar when stderr is a terminal)
  int64_t plain_every = 100;     // steps between plain lines
};

// "m:ss" or "h:mm:ss"; "--:--" when unknown (negative) or absurd.
std::string clock_string(double seconds);

class Progress {
 public:
  Progress(ProgressOptions options, bool enabled);
  // Starts a phase ("train", "val", "test") of `total` steps in epoch `epoch` of `epochs`.
  void begin(const std::string& phase, int64_t epoch, int64_t epochs, int64_t total);
  // Reports step `done` (1-based) with the running loss and metric.
  void update(int64_t done, double loss, double accuracy, double samples_per_sec, double lr);
  // Ends the phase; leaves the terminal on a fresh line.
  void end();

 private:
  void draw(int64_t done, double loss, double accuracy, double samples_per_sec, double lr);
  ProgressOptions options_;
  bool enabled_;
  bool bar_ = false;
  std::string phase_;
  int64_t epoch_ = 0, epochs_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

}  // namespace strike::worker
