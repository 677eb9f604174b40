// A rank's line to the launcher: hello, heartbeats, progress and events, sent from a background thread.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/wire.h"

namespace strike::worker {

struct ReporterOptions {
  std::string address;               // the launcher's coordination server, "host:port"
  std::string token;                 // the job's token (core::wire::kTokenChars hex characters)
  double heartbeat_seconds = 1.0;    // interval between heartbeats
  double lost_after_seconds = 10.0;  // no connection, or nothing heard from the launcher, for this long = launcher lost
  double progress_seconds = 0.5;     // least time between two progress messages of the same phase
  size_t queue_limit = 256;          // messages waiting to be sent; beyond it the oldest progress is dropped
};

// Never blocks training: every call only takes a short lock or stores an atomic; connecting, sending
// and reading the launcher's pings happen on the reporter's own thread. When the launcher is lost
// (connection refused or closed, or silent for lost_after_seconds), `on_lost` is called once, on
// that thread, with the reason; the reporter then stops sending.
class Reporter {
 public:
  using LostHandler = std::function<void(const std::string& why)>;
  // Starts the thread; `hello` (type kHello) is the first frame sent after the token.
  Reporter(ReporterOptions options, core::wire::Message hello, LostHandler on_lost);
  // Sends what is queued for at most a second, then closes the connection and joins the thread.
  ~Reporter();
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;

  // A reporter for the launcher named in the environment (STRIKE_COORD_ADDR, STRIKE_COORD_TOKEN,
  // STRIKE_COORD_HEARTBEAT_TIMEOUT), or null when this rank was not started by `strike`.
  // Throws a UsageError when the variables are present but malformed.
  static std::unique_ptr<Reporter> from_environment(core::wire::Message hello, LostHandler on_lost);

  // Where the rank is, after each batch; every call also counts one batch of work (the heartbeat's
  // `work`, which the launcher's stall detection watches). Heartbeats carry the latest values.
  void set_position(const std::string& phase, int64_t epoch, int64_t epochs, int64_t step, int64_t phase_step,
                    int64_t phase_steps);
  // Queues a progress message (type kProgress; position fields are filled in from `progress`)
  // unless one of the same phase went out less than progress_seconds ago and this is not the
  // phase's last step.
  void progress(const core::wire::Message& progress);
  // Queues any other message (checkpoint, error).
  void send(core::wire::Message message);
  // Queues kDone with `code` and sends everything for at most `seconds` (the rank is about to exit).
  void finish(int code, double seconds = 2.0);

  // Messages dropped because the queue was full.
  int64_t dropped() const { return dropped_.load(); }
  // True once the launcher is lost (on_lost has been called).
  bool lost() const { return lost_.load(); }

 private:
  void run();                               // the thread
  int connect_launcher();                   // the thread: the connected socket, or -1 once lost or closing
  void serve(int socket);                   // the thread: sends and reads until lost, done or closed
  void queue(core::wire::Message message);  // caller holds mutex_; applies queue_limit
  void wake_thread();                       // makes the thread's poll() return; called without mutex_
  void drain_wake();                        // the thread, after its poll() saw the wake pipe
  void declare_lost(const std::string& why);

  ReporterOptions options_;
  core::wire::Address address_;
  core::wire::Message hello_;
  LostHandler on_lost_;
  std::mutex mutex_;
  std::condition_variable wake_;  // finish() waits on it for the thread to flush or lose the launcher
  std::deque<core::wire::Message> queue_;
  core::wire::Message position_;  // guarded by mutex_
  std::chrono::steady_clock::time_point last_progress_{};
  std::string last_progress_phase_;
  bool any_progress_ = false;     // last_progress_* hold a sent progress
  bool in_flight_ = false;        // the thread holds messages taken from queue_ that are not all written yet
  bool finishing_ = false;
  bool closing_ = false;
  std::atomic<int64_t> dropped_{0};
  std::atomic<bool> lost_{false};
  std::atomic<bool> wake_pending_{false};
  int wake_read_ = -1;   // self-pipe: public calls write a byte so the thread's poll() wakes
  int wake_write_ = -1;
  std::thread thread_;
};

}  // namespace strike::worker
