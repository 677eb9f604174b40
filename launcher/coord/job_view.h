// The launcher's one view of a job: a live bar on a terminal, plain lines otherwise, the ranks' output passed through.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "launcher/coord/job_monitor.h"
#include "worker/progress.h"

namespace strike::launcher {

// Everything is written by a thread of its own: a terminal that stops reading (Ctrl-S, a full
// `| less`) must not stop the launcher's event loop, whose pings keep the ranks from giving up.
class JobView {
 public:
  // `options.mode`: bar, plain, none, or auto (bar when stderr is a terminal); plain lines come
  // every `options.plain_every` steps of a phase and at its end (its last state seen, when the updates
  // missed its last step).
  explicit JobView(worker::ProgressOptions options);
  // Writes everything queued, then stops the writer.
  ~JobView();
  JobView(const JobView&) = delete;
  JobView& operator=(const JobView&) = delete;

  // Redraws the bar (at most ~10 times a second) or prints a plain line when one is due.
  void update(const JobSnapshot& snapshot);
  // One line of the ranks' output for `fd` (1 or 2): the bar steps aside for it and comes back.
  void print(int fd, const std::string& line);
  // A message from the launcher itself, on stderr.
  void say(const std::string& message);
  // Takes the bar off the terminal (until the next update).
  void finish();
  // Bytes queued but not yet written: readers of the ranks' output pause while it is large.
  size_t backlog() const;

 private:
  void erase_bar();
  std::string describe(const JobSnapshot& s) const;
  void emit(int fd, std::string text);
  void write_loop();

  worker::ProgressOptions options_;
  bool bar_ = false;
  std::string bar_text_;  // what is drawn now; empty = nothing
  std::chrono::steady_clock::time_point last_draw_{};
  std::string plain_phase_;  // phase and epoch of the last plain line
  int64_t plain_epoch_ = -1, plain_step_ = -1;
  // The latest snapshot that got no plain line: updates come every 100 ms, so a phase can end between
  // two of them, and then its last state seen is its end line.
  std::optional<JobSnapshot> unprinted_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<int, std::string>> queue_;  // (fd, bytes), in order
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace strike::launcher
