// Supervising a job: the ranks' process, the coordination server's reports, faults, teardown and restarts.
#include "launcher/job.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "core/env.h"
#include "core/error.h"
#include "core/wire.h"
#include "launcher/coord/event_log.h"
#include "launcher/coord/job_monitor.h"
#include "launcher/coord/job_view.h"
#include "launcher/coord/server.h"
#include "launcher/spawn.h"
#include "worker/run_dir.h"

namespace strike::launcher {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using wire_type = core::wire::MessageType;

std::vector<std::string> with_option(std::vector<std::string> args, const std::string& name, const std::string& value) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name) {
      ++i;  // and its value
    } else if (args[i].rfind(name + "=", 0) != 0) {
      out.push_back(args[i]);
    }
  }
  out.insert(out.end(), {name, value});
  return out;
}

std::string coord_host_for_ranks(const worker::LaunchOptions& launch, const LaunchContext& context) {
  if (launch.coord_host != "auto") return launch.coord_host;
  const char* nodes = std::getenv("SLURM_JOB_NUM_NODES");
  const bool other_hosts = !launch.hosts.empty() || !launch.hostfile.empty() ||
                           (context.in_slurm_allocation && nodes != nullptr && std::string(nodes) != "1");
  if (!other_hosts) return "127.0.0.1";
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

namespace {

std::string this_host() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// True if `pid` is still a strike-worker (a pid can be reused by an unrelated process).
bool is_worker(int64_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  return std::getline(comm, name) && name == "strike-worker";
}

// Writes cut short by the failure (temporary names, never renamed into place): nobody can be
// writing them any more, and they must not pile up over restarts.
void remove_partial_checkpoints(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(entry.path(), ec);
  }
}

// Copies a child's stdout or stderr to ours line by line, so lines never tear the progress bar.
// Shared with its pending read, which may still be queued after the attempt that made it is over.
class OutputPump : public std::enable_shared_from_this<OutputPump> {
 public:
  static std::shared_ptr<OutputPump> start(asio::io_context& io, int from_fd, int to_fd, JobView& view) {
    auto pump = std::shared_ptr<OutputPump>(new OutputPump(io, from_fd, to_fd, view));
    pump->read();
    return pump;
  }
  bool open() const { return open_; }
  // Flushes a last unterminated line and stops reading (the child is gone).
  void close() {
    if (!pending_.empty()) view_.print(to_fd_, pending_);
    pending_.clear();
    boost::system::error_code ignored;
    stream_.close(ignored);
    wait_.cancel();
    open_ = false;
  }

 private:
  OutputPump(asio::io_context& io, int from_fd, int to_fd, JobView& view)
      : stream_(io, from_fd), to_fd_(to_fd), view_(view), wait_(io) {}

  void read() {
    if (!open_) return;
    // A terminal that is not reading: leave the ranks' output in the pipe (they wait on it, as
    // they would on a slow terminal) rather than in our memory.
    if (view_.backlog() > kMaxBacklog) {
      wait_.expires_after(std::chrono::milliseconds(50));
      wait_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->read();
      });
      return;
    }
    stream_.async_read_some(asio::buffer(buffer_), [self = shared_from_this(), this](const boost::system::error_code& ec,
                                                                                     size_t n) {
      if (ec) {
        if (open_) close();
        return;
      }
      pending_.append(buffer_.data(), n);
      size_t start = 0;
      for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
        view_.print(to_fd_, pending_.substr(start, end - start));
      }
      pending_.erase(0, start);
      // A child that never ends its line must not make us hold its output forever.
      if (pending_.size() > 64 * 1024) {
        view_.print(to_fd_, pending_);
        pending_.clear();
      }
      read();
    });
  }

  static constexpr size_t kMaxBacklog = 1 << 20;
  asio::posix::stream_descriptor stream_;
  int to_fd_;
  JobView& view_;
  asio::steady_timer wait_;
  std::array<char, 4096> buffer_{};
  std::string pending_;
  bool open_ = true;
};

// Everything about one job, across its attempts.
class Supervisor {
 public:
  Supervisor(const worker::TrainCommandOptions& options, std::vector<std::string> worker_args, std::string run_dir)
      : options_(options),
        worker_args_(std::move(worker_args)),
        run_dir_(std::move(run_dir)),
        events_((fs::path(run_dir_) / "events.jsonl").string()),
        view_(options.trainer.progress),
        signals_(io_, SIGINT, SIGTERM, SIGUSR1),
        tick_(io_) {}

  int run();

 private:
  struct Attempt {
    Child child;
    std::optional<int> exit_code;
    Clock::time_point exited_at{};
    std::optional<std::string> fault;  // why the job was torn down
    Clock::time_point torn_down_at{};
    bool killed = false;
    std::optional<Clock::time_point> failed_rank_seen;  // when a fault was first seen
    std::optional<Clock::time_point> stopping_since;    // when a signal began to stop the job
  };

  // The first failing exit code a rank reported itself (not an interruption), or 0.
  int ranks_exit_code() const {
    for (const auto& r : monitor_->ranks()) {
      if (r.finished && r.exit_code != kExitOk && r.exit_code != kExitInterrupted) return r.exit_code;
    }
    return 0;
  }

  void start_server();
  int run_attempt(const std::vector<std::string>& command, int attempt_number);
  void on_tick(Attempt& attempt);
  void wait_for_signal();
  // After USR1 and the ranks' checkpoint: `scontrol requeue` this Slurm job, within --max-requeues.
  int requeue(int code);
  void on_signal(int signal);
  void tear_down(Attempt& attempt, const std::string& why);
  void kill_everything(Attempt& attempt);
  void log_message(uint64_t connection, const core::wire::Message& m, int rank);

  worker::TrainCommandOptions options_;
  std::vector<std::string> worker_args_;
  std::string run_dir_;
  EventLog events_;
  JobView view_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer tick_;
  std::unique_ptr<CoordServer> server_;
  std::string address_;  // host:port the ranks are told
  std::unique_ptr<JobMonitor> monitor_;  // the current attempt's
  std::map<uint64_t, int> rank_of_connection_;
  std::map<int, std::pair<std::string, Clock::time_point>> last_logged_progress_;  // phase and time, per rank
  std::string last_checkpoint_;  // path of the newest checkpoint a rank reported complete
  Attempt* attempt_ = nullptr;  // the running attempt, for signals
  int interrupts_ = 0;
  bool requeue_asked_ = false;  // USR1 came: requeue the Slurm job once the ranks have saved
};

// The Slurm job to requeue: an array element by its array id and index, so the requeue keeps it in
// its array; otherwise the job id. Empty outside Slurm.
std::string slurm_job_to_requeue() {
  const char* array_job = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* array_task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (array_job && array_task) return std::string(array_job) + "_" + array_task;
  const char* job = std::getenv("SLURM_JOB_ID");
  return job ? job : "";
}

int slurm_restart_count() {
  const char* count = std::getenv("SLURM_RESTART_COUNT");
  return count ? std::atoi(count) : 0;
}

void Supervisor::start_server() {
  const worker::LaunchOptions& launch = options_.launch;
  const std::string advertised = coord_host_for_ranks(launch, LaunchContext::current());
  // An address given by the user, or the loopback for a one-host job, is where we listen; a
  // host name stands for every interface this host has.
  const bool listen_everywhere = launch.coord_host == "auto" && advertised != "127.0.0.1";
  const std::string token = core::wire::make_token();
  CoordServer::Handlers handlers;
  handlers.on_message = [this](uint64_t connection, const core::wire::Message& m) {
    if (!monitor_) return;
    const int rank = monitor_->on_message(connection, m, Clock::now());
    if (rank >= 0) rank_of_connection_[connection] = rank;
    log_message(connection, m, rank);
    if (rank >= 0 && m.type == wire_type::kCheckpoint) last_checkpoint_ = m.path;
  };
  handlers.on_close = [this](uint64_t connection, const std::string& why) {
    if (monitor_) monitor_->on_close(connection, Clock::now());
    auto it = rank_of_connection_.find(connection);
    nlohmann::json fields = {{"connection", connection}, {"why", why}};
    if (it != rank_of_connection_.end()) fields["rank"] = it->second;
    events_.write("disconnect", fields);
  };
  server_.reset();  // the previous attempt's, closed: with a fixed --coord-port the new one takes its port
  server_ = std::make_unique<CoordServer>(io_, listen_everywhere ? "0.0.0.0" : advertised,
                                          static_cast<uint16_t>(launch.coord_port), token, ServerLimits{}, handlers);
  address_ = advertised + ":" + std::to_string(server_->port());
  // The ranks find the server through their environment (never the command line, which `ps` shows).
  ::setenv(env::kCoordAddress, address_.c_str(), 1);
  ::setenv(env::kCoordToken, token.c_str(), 1);
  ::setenv(env::kCoordHeartbeatTimeout, fmt::format("{}", launch.heartbeat_timeout).c_str(), 1);
}

void Supervisor::log_message(uint64_t connection, const core::wire::Message& m, int rank) {
  if (m.type == wire_type::kHeartbeat) return;  // liveness, not news: the file would be mostly heartbeats
  if (m.type == wire_type::kProgress && rank >= 0) {
    // Two progress messages a second per rank would make a day-long job's file hundreds of MB:
    // keep each phase's first and last, and one per rank every 10 s between.
    auto& last = last_logged_progress_[rank];
    const auto now = Clock::now();
    const bool edge = m.phase != last.first || m.phase_step == m.phase_steps || m.phase_step <= 1;
    if (!edge && now - last.second < std::chrono::seconds(10)) return;
    last = {m.phase, now};
  }
  nlohmann::json fields = nlohmann::json::parse(core::wire::encode(m), nullptr, false);
  if (fields.is_discarded()) fields = nlohmann::json::object();
  fields.erase("type");
  fields["connection"] = connection;
  if (rank >= 0) fields["rank"] = rank;
  if (rank < 0) fields["ignored"] = true;
  events_.write(core::wire::type_name(m.type), fields);
}

void Supervisor::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    on_signal(signal);
    wait_for_signal();  // a signal_set delivers one signal per wait
  });
}

void Supervisor::on_signal(int signal) {
  // USR1 is Slurm's notice of the time limit or a preemption: checkpoint as for Ctrl-C, then requeue.
  if (signal == SIGUSR1) {
    requeue_asked_ = true;
    if (interrupts_ > 0) return;
  }
  ++interrupts_;
  events_.write("signal", {{"signal", signal}, {"count", interrupts_}});
  if (!attempt_ || attempt_->exit_code) return;
  const pid_t pid = attempt_->child.pid;
  // First: every rank checkpoints at its next step and stops (mpirun and srun pass USR1 on; a
  // lone worker treats it like Ctrl-C). Second: stop now. Third: kill.
  if (interrupts_ == 1) {
    view_.say("stopping: the ranks save a checkpoint at the next step (Ctrl-C again to stop at once)");
    ::kill(pid, SIGUSR1);
  } else if (interrupts_ == 2) {
    ::kill(pid, SIGTERM);
  } else {
    kill_everything(*attempt_);
  }
}

void Supervisor::tear_down(Attempt& attempt, const std::string& why) {
  attempt.fault = why;
  attempt.torn_down_at = Clock::now();
  view_.say("stopping the job: " + why);
  events_.write("fault", {{"text", why}});
  // mpirun and srun end every rank on TERM; a lone worker stops at its next step, or is killed below.
  if (!attempt.exit_code) ::kill(attempt.child.pid, SIGTERM);
}

void Supervisor::kill_everything(Attempt& attempt) {
  attempt.killed = true;
  // Ranks on this host die directly (a stopped or hung one ignores TERM); mpirun's process group
  // with them; ranks elsewhere end when mpirun's daemons lose mpirun.
  if (monitor_) {
    const std::string host = this_host();
    for (const auto& r : monitor_->ranks()) {
      if (!r.finished && r.pid > 0 && r.host == host && is_worker(r.pid)) ::kill(static_cast<pid_t>(r.pid), SIGKILL);
    }
  }
  if (!attempt.exit_code) ::kill(-attempt.child.pid, SIGKILL);
}

void Supervisor::on_tick(Attempt& attempt) {
  const auto now = Clock::now();
  if (!attempt.exit_code) {
    int status = 0;
    if (::waitpid(attempt.child.pid, &status, WNOHANG) == attempt.child.pid) {
      attempt.exit_code = exit_code_of(status);
      attempt.exited_at = now;
      events_.write("exit", {{"code", *attempt.exit_code}});
    }
  }
  // Ranks stopping on a signal end one by one, which looks like faults; a rank that hangs while
  // stopping is still a fault once the heartbeat timeout has passed.
  bool stopping = interrupts_ > 0;
  for (const auto& r : monitor_->ranks()) stopping |= r.finished && r.exit_code == kExitInterrupted;
  if (stopping && !attempt.stopping_since) attempt.stopping_since = now;
  const bool grace = attempt.stopping_since &&
                     now - *attempt.stopping_since < std::chrono::duration<double>(options_.launch.heartbeat_timeout);
  if (!attempt.fault && !attempt.exit_code && !grace) {
    if (auto fault = monitor_->fault(now)) {
      // A rank that failed with its own error has said why and takes the job down itself (MPI_Abort):
      // give that five seconds, so the job ends with the rank's exit code and message alone.
      if (!attempt.failed_rank_seen) attempt.failed_rank_seen = now;
      const bool rank_failed_itself = ranks_exit_code() != 0;
      if (!rank_failed_itself || now - *attempt.failed_rank_seen > std::chrono::seconds(5)) tear_down(attempt, *fault);
    }
  }
  // A rank that ignores TERM (stopped, hung in a collective) has had its chance.
  if (attempt.fault && !attempt.killed && now - attempt.torn_down_at > std::chrono::seconds(3)) {
    kill_everything(attempt);
  }
  // The view lasts while ranks are at work; their closing lines then stand alone.
  bool working = false;
  for (const auto& r : monitor_->ranks()) working |= r.connected && !r.finished;
  if (working && !attempt.exit_code) {
    view_.update(monitor_->snapshot(now));
  } else {
    view_.finish();
  }
}

int Supervisor::run_attempt(const std::vector<std::string>& command, int attempt_number) {
  start_server();
  monitor_ = std::make_unique<JobMonitor>(
      options_.launch.ranks,
      // A short --stall-timeout (tests, debugging) must not also make slow starts fatal.
      MonitorOptions{options_.launch.stall_timeout, options_.launch.heartbeat_timeout,
                     std::max(options_.launch.stall_timeout, 60.0)},
      Clock::now());
  rank_of_connection_.clear();
  Attempt attempt;
  attempt.child = start_child(command, true);
  attempt_ = &attempt;
  events_.write("start",
                {{"attempt", attempt_number}, {"pid", attempt.child.pid}, {"coordination", address_}, {"command", command}});
  auto out = OutputPump::start(io_, attempt.child.out_fd, STDOUT_FILENO, view_);
  auto err = OutputPump::start(io_, attempt.child.err_fd, STDERR_FILENO, view_);

  bool over = false;
  std::function<void()> schedule_tick = [&] {
    tick_.expires_after(std::chrono::milliseconds(100));
    tick_.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      on_tick(attempt);
      // Done when the child has exited and its output has drained (ranks it orphaned may hold the
      // pipes open: give up on them after two seconds).
      if (attempt.exit_code &&
          ((!out->open() && !err->open()) || Clock::now() - attempt.exited_at > std::chrono::seconds(2))) {
        over = true;
        return;
      }
      schedule_tick();
    });
  };
  schedule_tick();
  while (!over) io_.run_one();
  if (out->open()) out->close();
  if (err->open()) err->close();
  // A new server for every attempt: ranks of this one that are still starting somewhere cannot
  // join the next, and those still connected learn that the launcher has moved on.
  server_->close();
  // No rank outlives its job: kill any that the launcher process left behind on this host.
  if (*attempt.exit_code != kExitOk) kill_everything(attempt);
  attempt_ = nullptr;
  view_.finish();

  // The ranks' own verdict when they gave one (e.g. 2 for a bad option); 1 when the launcher had
  // to tear the job down; otherwise mpirun's or the lone worker's code.
  int code = *attempt.exit_code;
  if (ranks_exit_code() != 0) {
    code = ranks_exit_code();
  } else if (attempt.fault) {
    code = kExitError;
  } else if (interrupts_ > 0 && code > 128) {
    code = kExitInterrupted;  // stopped by the user's second Ctrl-C, or the first came before the ranks could save
  }
  events_.write("end", {{"attempt", attempt_number}, {"code", code}, {"fault", attempt.fault.value_or("")}});
  return code;
}

int Supervisor::requeue(int code) {
  const std::string job = slurm_job_to_requeue();
  if (job.empty() || code != kExitInterrupted) return code;  // not in Slurm, or the ranks did not stop cleanly
  if (slurm_restart_count() >= options_.launch.max_requeues) {
    view_.say(fmt::format("not requeueing job {}: it has been requeued {} time(s) (--max-requeues {})", job,
                          slurm_restart_count(), options_.launch.max_requeues));
    return code;
  }
  const std::string scontrol = find_program("scontrol");
  // Slurm ends this very process once the requeue takes effect: record it first.
  events_.write("requeueing", {{"job", job}, {"restart_count", slurm_restart_count()}});
  view_.say("checkpoint saved; requeueing Slurm job " + job + ", which resumes from it");
  const int rc = scontrol.empty() ? 127 : run_child({scontrol, "requeue", job});
  events_.write("requeue", {{"job", job}, {"code", rc}});
  if (rc != 0) {
    view_.say("scontrol requeue " + job + " failed (exit " + std::to_string(rc) + "): resume by hand with --resume last");
    return code;
  }
  return kExitOk;
}

int Supervisor::run() {
  wait_for_signal();
  const std::string worker = worker_path();
  // The command names the STRIKE_COORD_* variables that every attempt's server sets.
  for (const char* name : {env::kCoordAddress, env::kCoordToken, env::kCoordHeartbeatTimeout}) ::setenv(name, "", 1);
  const LaunchContext context = LaunchContext::current();
  events_.write("job", {{"ranks", options_.launch.ranks},
                        {"run_dir", fs::absolute(run_dir_).string()},
                        {"max_restarts", options_.launch.max_restarts}});
  std::vector<std::string> args = worker_args_;
  // A requeued Slurm job runs its script again from the top: it continues from its checkpoint.
  if (slurm_restart_count() > 0 && !worker::RunDir(run_dir_).newest_complete_checkpoint().empty()) {
    args = with_option(args, "--resume", "last");
    events_.write("requeued", {{"restart_count", slurm_restart_count()}});
  }
  int code = kExitError;
  for (int attempt = 0;; ++attempt) {
    code = run_attempt(rank_command(options_.launch, options_.threads, worker, args, context), attempt);
    if (code == kExitOk || code == kExitUsage || interrupts_ > 0 || code == kExitInterrupted) break;
    if (attempt >= options_.launch.max_restarts) {
      if (options_.launch.max_restarts > 0) view_.say(fmt::format("giving up after {} restart(s)", attempt));
      break;
    }
    // Resume from the newest checkpoint that is complete (one whose write was cut short is never
    // picked), or start over when there is none yet.
    // Rank 0's checkpoint events count even when its files are on another host; the run directory
    // as seen here also holds those of an earlier run being resumed.
    const worker::RunDir run_dir(run_dir_);
    remove_partial_checkpoints(run_dir.checkpoint_dir());
    const std::string local = run_dir.newest_complete_checkpoint();
    const std::string checkpoint = !local.empty() ? local : last_checkpoint_;
    args = worker_args_;
    if (!checkpoint.empty()) args = with_option(args, "--resume", "last");
    view_.say(fmt::format("restarting the job ({} of {}) from {}", attempt + 1, options_.launch.max_restarts,
                          checkpoint.empty() ? "the beginning (no complete checkpoint yet)" : checkpoint));
    events_.write("restart", {{"attempt", attempt + 1}, {"checkpoint", checkpoint}});
  }
  if (requeue_asked_) code = requeue(code);
  events_.write("job_end", {{"code", code}});
  if (code != kExitOk && code != kExitInterrupted) {
    view_.say(fmt::format("the job failed (exit {}): the first error is above; every rank's log is in {}/logs/rank-N.log "
                          "and the job's events in {}",
                          code, run_dir_, events_.path()));
  }
  return code;
}

}  // namespace

int run_job(const worker::TrainCommandOptions& options, std::vector<std::string> worker_args) {
  std::string run_dir = options.output;
  if (run_dir.empty()) {
    // Every attempt, and every rank, must agree on the run directory: name it once, here.
    run_dir = worker::default_output(options);
    worker_args = with_option(std::move(worker_args), "--output", run_dir);
  }
  // Flags that cannot work are reported before anything is created or started.
  rank_command(options.launch, options.threads, worker_path(), worker_args, LaunchContext::current());
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) throw Error("cannot create the run directory: " + ec.message(), run_dir, "check --output and its permissions");
  Supervisor supervisor(options, std::move(worker_args), run_dir);
  return supervisor.run();
}

}  // namespace strike::launcher
