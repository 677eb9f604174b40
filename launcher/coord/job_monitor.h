// What the launcher knows about each rank of a running job, and the faults that must end it.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/wire.h"

namespace strike::launcher {

using Clock = std::chrono::steady_clock;

struct MonitorOptions {
  double stall_seconds = 300;      // a rank whose work counter has not grown for this long has stalled
  double heartbeat_seconds = 10;   // a rank heard from not at all for this long is lost
  double connect_seconds = 300;    // a rank that has not said hello this long after the start is missing
};

struct RankStatus {
  int rank = -1;
  std::string host, device;
  int64_t pid = 0;
  bool connected = false;          // said hello, connection open
  bool finished = false;           // sent done
  int exit_code = 0;               // from done
  std::string error;               // from an error message
  core::wire::Message position;    // latest heartbeat or progress (phase, epoch, step, work, ...)
  core::wire::Message progress;    // latest progress message
  Clock::time_point last_heard{};  // any message
  Clock::time_point last_moved{};  // work counter last grew (or hello)
  Clock::time_point phase_began{}; // first seen in its current phase and epoch (for the ETA)
};

// One line's worth of the job for the progress view.
struct JobSnapshot {
  int world = 0;
  int connected = 0;
  std::string phase;             // phase of the furthest rank
  int64_t epoch = 0, epochs = 0;
  int64_t phase_step = 0, phase_steps = 0;  // of the slowest connected rank in that phase
  double samples_per_sec = 0;    // summed over ranks
  double loss = 0, metric = 0, lr = 0;  // rank 0's latest progress
  double eta_seconds = -1;       // rest of this phase at the current rate; -1 = unknown
  int slowest_rank = -1;         // lowest work counter (ties: lowest throughput); -1 with one rank
};

class JobMonitor {
 public:
  JobMonitor(int world, MonitorOptions options, Clock::time_point start);

  // A message from connection `connection`. Returns the rank it speaks for, or -1 when it is
  // ignored (no hello yet on this connection, a rank outside the world, a second hello for a rank
  // that is already connected).
  int on_message(uint64_t connection, const core::wire::Message& message, Clock::time_point now);
  // Connection closed (the server's on_close).
  void on_close(uint64_t connection, Clock::time_point now);

  // The first fault that must end the job, described for people (per rank: what, where, since
  // when), or nullopt. Faults: a rank disconnected without sending done, or with a non-zero code;
  // a rank lost (silent for heartbeat_seconds); ranks stalled (e.g. "ranks 1,3 have not moved past
  // epoch 2 train step 1200/1875 for 60 s"); a rank missing at connect_seconds.
  std::optional<std::string> fault(Clock::time_point now) const;
  // True when every rank has sent done with code 0.
  bool all_done() const;

  JobSnapshot snapshot(Clock::time_point now) const;
  const std::vector<RankStatus>& ranks() const { return ranks_; }

 private:
  MonitorOptions options_;
  Clock::time_point start_;
  std::vector<RankStatus> ranks_;
  std::map<uint64_t, int> rank_of_connection_;
  std::vector<std::string> disconnects_;  // faults seen on close, in order
};

}  // namespace strike::launcher
