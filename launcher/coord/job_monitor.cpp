// What the launcher knows about each rank of a running job, and the faults that must end it: pure bookkeeping, no I/O.
#include "launcher/coord/job_monitor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace strike::launcher {
namespace {

using core::wire::Message;
using core::wire::MessageType;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Whole seconds read best in a fault line; below ten seconds a tenth still says something.
std::string format_seconds(double seconds) {
  if (seconds < 0) seconds = 0;
  char text[32];
  if (seconds >= 10) {
    std::snprintf(text, sizeof(text), "%lld s", static_cast<long long>(std::floor(seconds)));
  } else {
    double tenths = std::floor(seconds * 10) / 10;
    if (tenths == std::floor(tenths)) {
      std::snprintf(text, sizeof(text), "%lld s", static_cast<long long>(tenths));
    } else {
      std::snprintf(text, sizeof(text), "%.1f s", tenths);
    }
  }
  return text;
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (i) text += ",";
    text += std::to_string(ranks[i]);
  }
  return text;
}

// "rank 1 (host h1, pid 4242)": enough to find the process and its log.
std::string who(const RankStatus& r) {
  return "rank " + std::to_string(r.rank) + " (host " + (r.host.empty() ? "?" : r.host) + ", pid " +
         std::to_string(r.pid) + ")";
}

// Where a rank is, as people read it: "epoch 2 train step 1200/1875"; empty before any phase.
std::string where_text(const Message& p) {
  if (p.phase.empty()) return "";
  return "epoch " + std::to_string(p.epoch) + " " + p.phase + " step " + std::to_string(p.phase_step) + "/" +
         std::to_string(p.phase_steps);
}

// A checkpoint event says which state was saved (epochs completed, the step), not where the rank is now.
bool is_position(MessageType type) { return type == MessageType::kHeartbeat || type == MessageType::kProgress; }

// A rank that finished cleanly owes the launcher nothing more: it can be neither silent nor stalled.
bool finished_ok(const RankStatus& r) { return r.finished && r.exit_code == 0; }

}  // namespace

JobMonitor::JobMonitor(int world, MonitorOptions options, Clock::time_point start)
    : options_(options), start_(start), ranks_(static_cast<size_t>(std::max(world, 0))) {
  for (size_t i = 0; i < ranks_.size(); ++i) ranks_[i].rank = static_cast<int>(i);
}

int JobMonitor::on_message(uint64_t connection, const Message& message, Clock::time_point now) {
  auto bound = rank_of_connection_.find(connection);
  if (message.type == MessageType::kHello) {
    // A connection speaks for one rank for its whole life; a rank has one connection at a time.
    if (bound != rank_of_connection_.end()) return -1;
    if (message.world != static_cast<int>(ranks_.size())) return -1;
    if (message.rank < 0 || message.rank >= static_cast<int>(ranks_.size())) return -1;
    RankStatus& r = ranks_[static_cast<size_t>(message.rank)];
    if (r.connected) return -1;
    r.host = message.host;
    r.device = message.device;
    r.pid = message.pid;
    r.connected = true;
    r.last_heard = now;
    r.last_moved = now;
    rank_of_connection_[connection] = message.rank;
    return message.rank;
  }
  if (bound == rank_of_connection_.end()) return -1;
  RankStatus& r = ranks_[static_cast<size_t>(bound->second)];
  r.last_heard = now;
  if (is_position(message.type)) {
    if (message.work > r.position.work) r.last_moved = now;
    bool same_phase = r.phase_began != Clock::time_point{} && message.phase == r.position.phase &&
                      message.epoch == r.position.epoch;
    if (!same_phase) r.phase_began = now;
    r.position = message;
    if (message.type == MessageType::kProgress) r.progress = message;
  } else if (message.type == MessageType::kError) {
    r.error = message.text;
  } else if (message.type == MessageType::kDone) {
    r.finished = true;
    r.exit_code = message.code;
    if (message.code != 0) {
      std::string fault = who(r) + " failed with exit code " + std::to_string(message.code);
      if (!r.error.empty()) fault += ": " + r.error;
      disconnects_.push_back(fault);
    }
  }
  return r.rank;
}

void JobMonitor::on_close(uint64_t connection, Clock::time_point now) {
  (void)now;
  auto bound = rank_of_connection_.find(connection);
  if (bound == rank_of_connection_.end()) return;
  RankStatus& r = ranks_[static_cast<size_t>(bound->second)];
  rank_of_connection_.erase(bound);
  r.connected = false;
  if (r.finished) return;  // its exit code, good or bad, was already judged at done
  std::string fault = who(r) + " disconnected without finishing: it crashed, was killed, or lost its network";
  if (!r.error.empty()) fault += ": " + r.error;
  disconnects_.push_back(fault);
}

std::optional<std::string> JobMonitor::fault(Clock::time_point now) const {
  if (!disconnects_.empty()) return disconnects_.front();

  // Lost: the rank that has been silent longest is the likeliest cause; the others are named after it.
  const RankStatus* lost = nullptr;
  std::vector<int> also_lost;
  for (const RankStatus& r : ranks_) {
    if (!r.connected || finished_ok(r)) continue;
    if (seconds_between(r.last_heard, now) < options_.heartbeat_seconds) continue;
    if (!lost || r.last_heard < lost->last_heard) {
      if (lost) also_lost.push_back(lost->rank);
      lost = &r;
    } else {
      also_lost.push_back(r.rank);
    }
  }
  if (lost) {
    std::string text = who(*lost) + " has sent nothing for " + format_seconds(seconds_between(lost->last_heard, now)) +
                       ": it is stopped, hung, or unreachable";
    if (!also_lost.empty()) {
      std::sort(also_lost.begin(), also_lost.end());
      text += " (also silent: " + rank_list(also_lost) + ")";
    }
    return text;
  }

  // Stalled: ranks stuck together are usually one cause (a collective waiting on a peer), so they are
  // grouped by where they stopped, groups in order of their lowest rank.
  struct Group {
    std::string where;
    std::vector<int> ranks;
    double seconds = 0;  // the shortest stall in the group: all of them have waited at least this long
  };
  std::vector<Group> groups;
  for (const RankStatus& r : ranks_) {
    if (!r.connected || finished_ok(r)) continue;
    double still = seconds_between(r.last_moved, now);
    if (still < options_.stall_seconds) continue;
    std::string where = where_text(r.position);
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.where == where; });
    if (g == groups.end()) {
      groups.push_back({where, {r.rank}, still});
    } else {
      g->ranks.push_back(r.rank);
      g->seconds = std::min(g->seconds, still);
    }
  }
  if (!groups.empty()) {
    std::string text;
    for (const Group& g : groups) {
      if (!text.empty()) text += "; ";
      bool one = g.ranks.size() == 1;
      text += rank_list(g.ranks);
      if (g.where.empty()) {
        text += one ? " has made no progress since it connected" : " have made no progress since they connected";
      } else {
        text += (one ? " has not moved past " : " have not moved past ") + g.where;
      }
      text += " for " + format_seconds(g.seconds);
    }
    return text;
  }

  double since_start = seconds_between(start_, now);
  if (since_start >= options_.connect_seconds) {
    std::vector<int> missing;
    for (const RankStatus& r : ranks_) {
      if (!r.connected && !r.finished) missing.push_back(r.rank);
    }
    if (!missing.empty()) {
      bool one = missing.size() == 1;
      return rank_list(missing) + (one ? " has" : " have") + " not connected after " + format_seconds(since_start) +
             (one ? " (check that it started: see its log)" : " (check that they started: see their logs)");
    }
  }
  return std::nullopt;
}

bool JobMonitor::all_done() const {
  if (ranks_.empty()) return false;
  return std::all_of(ranks_.begin(), ranks_.end(), finished_ok);
}

JobSnapshot JobMonitor::snapshot(Clock::time_point now) const {
  JobSnapshot s;
  s.world = static_cast<int>(ranks_.size());
  const RankStatus* furthest = nullptr;
  for (const RankStatus& r : ranks_) {
    if (r.connected) ++s.connected;
    if (r.connected && !r.finished) s.samples_per_sec += r.progress.samples_per_sec;
    if (r.phase_began == Clock::time_point{}) continue;  // no position yet
    if (!furthest || r.position.work > furthest->position.work) furthest = &r;
  }
  if (!ranks_.empty()) {
    const Message& p = ranks_[0].progress;
    s.loss = p.loss;
    s.metric = p.metric;
    s.lr = p.lr;
  }
  if (furthest) {
    s.phase = furthest->position.phase;
    s.epoch = furthest->position.epoch;
    s.epochs = furthest->position.epochs;
    // The phase ends when its slowest rank ends it, so that rank's step and pace give the ETA.
    const RankStatus* slow = nullptr;
    for (const RankStatus& r : ranks_) {
      if (!r.connected || r.phase_began == Clock::time_point{}) continue;
      if (r.position.phase != s.phase || r.position.epoch != s.epoch) continue;
      if (!slow || r.position.phase_step < slow->position.phase_step) slow = &r;
    }
    if (!slow) slow = furthest;
    s.phase_step = slow->position.phase_step;
    s.phase_steps = slow->position.phase_steps;
    double elapsed = seconds_between(slow->phase_began, now);
    if (!s.phase.empty() && s.phase_step > 0 && elapsed > 0 && s.phase_steps >= s.phase_step) {
      double steps_per_sec = static_cast<double>(s.phase_step) / elapsed;
      s.eta_seconds = static_cast<double>(s.phase_steps - s.phase_step) / steps_per_sec;
    }
  }
  if (ranks_.size() > 1) {
    const RankStatus* slowest = nullptr;
    for (const RankStatus& r : ranks_) {
      if (!r.connected || r.finished) continue;
      if (!slowest || r.position.work < slowest->position.work ||
          (r.position.work == slowest->position.work &&
           r.progress.samples_per_sec < slowest->progress.samples_per_sec)) {
        slowest = &r;
      }
    }
    if (slowest) s.slowest_rank = slowest->rank;
  }
  return s;
}

}  // namespace strike::launcher
