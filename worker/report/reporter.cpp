// A rank's line to the launcher: public calls queue under a short lock; one thread owns the socket (POSIX, poll()).
#include "worker/report/reporter.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/error.h"

namespace strike::worker {

namespace wire = core::wire;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kConnectRetrySeconds = 0.2;
// The destructor's budget for flushing the queue; a launcher that stopped reading must not hold
// the rank's exit.
constexpr double kCloseSeconds = 1.0;
// After our FIN, how long to keep reading for the launcher's: closing with its pings unread
// would send a reset, which can discard our last frames before the launcher reads them.
constexpr double kLingerSeconds = 0.25;
// Messages encoded per refill of the send buffer: bounds the buffer, and leaves the rest in
// queue_ where the queue limit can still drop stale progress.
constexpr size_t kBatchMessages = 64;

// Owns a descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Clock::duration span(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Rounded up, so a loop waiting for a deadline does not spin through its last millisecond.
int poll_ms(Clock::time_point now, Clock::time_point deadline) {
  if (deadline <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 60 * 1000));
}

// std::strerror is not thread-safe; this is.
std::string error_text(int error) { return std::error_code(error, std::generic_category()).message(); }

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g s", seconds);
  return buffer;
}

bool must_keep(wire::MessageType type) {
  return type == wire::MessageType::kCheckpoint || type == wire::MessageType::kError ||
         type == wire::MessageType::kDone;
}

bool is_token(const std::string& token) {
  return token.size() == wire::kTokenChars &&
         std::all_of(token.begin(), token.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// Writes what the socket takes without blocking; false on an error, described in `error`.
bool write_some(int fd, std::string& out, std::string* error) {
  size_t sent = 0;
  bool ok = true;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      *error = error_text(n < 0 ? errno : EIO);
      ok = false;
      break;
    }
  }
  out.erase(0, sent);
  return ok;
}

// Our FIN, then reading until the launcher's or `until`, so no unread ping turns the close into a reset.
void close_gracefully(int fd, Clock::time_point until) {
  ::shutdown(fd, SHUT_WR);
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) continue;
    if (n == 0) return;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return;
    const auto now = Clock::now();
    if (now >= until) return;
    pollfd entry{fd, POLLIN, 0};
    ::poll(&entry, 1, poll_ms(now, until));
  }
}

}  // namespace

Reporter::Reporter(ReporterOptions options, wire::Message hello, LostHandler on_lost)
    : options_(std::move(options)),
      address_(wire::parse_address(options_.address)),
      hello_(std::move(hello)),
      on_lost_(std::move(on_lost)) {
  require(is_token(options_.token), "the job token must be " + std::to_string(wire::kTokenChars) + " hex characters");
  require(options_.heartbeat_seconds > 0 && options_.lost_after_seconds > 0,
          "the reporter's heartbeat interval and lost-after time must be positive");
  hello_.type = wire::MessageType::kHello;
  position_.type = wire::MessageType::kHeartbeat;
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
    throw Error("could not create the reporter's wake pipe: " + error_text(errno), options_.address);
  wake_read_ = fds[0];
  wake_write_ = fds[1];
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    ::close(wake_read_);
    ::close(wake_write_);
    throw;
  }
}

Reporter::~Reporter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  wake_thread();
  if (thread_.joinable()) thread_.join();
  ::close(wake_read_);
  ::close(wake_write_);
}

std::unique_ptr<Reporter> Reporter::from_environment(wire::Message hello, LostHandler on_lost) {
  const char* address = env::get(env::kCoordAddress, nullptr);
  const char* token = env::get(env::kCoordToken, nullptr);
  const char* timeout = env::get(env::kCoordHeartbeatTimeout, nullptr);
  if (!address && !token && !timeout) return nullptr;
  const std::string hint = std::string("`strike train` sets ") + env::kCoordAddress + ", " + env::kCoordToken +
                           " and " + env::kCoordHeartbeatTimeout +
                           " for the ranks it launches; unset them all to run strike-worker by itself";
  if (!address)
    throw UsageError(std::string(env::kCoordAddress) + " is not set, but " +
                         (token ? env::kCoordToken : env::kCoordHeartbeatTimeout) + " is",
                     env::kCoordAddress, hint);
  ReporterOptions options;
  options.address = address;
  try {
    wire::parse_address(options.address);
  } catch (const UsageError& e) {
    throw UsageError(std::string(env::kCoordAddress) + " must be host:port: " + e.what(), env::kCoordAddress, hint);
  }
  // The token's value is a secret: messages give only its shape.
  if (!token)
    throw UsageError(std::string(env::kCoordToken) + " is not set; it must hold the job's " +
                         std::to_string(wire::kTokenChars) + "-character token",
                     env::kCoordToken, hint);
  options.token = token;
  if (!is_token(options.token))
    throw UsageError(std::string(env::kCoordToken) + " must be " + std::to_string(wire::kTokenChars) +
                         " hex characters; it has " + std::to_string(options.token.size()) + " characters" +
                         (options.token.size() == wire::kTokenChars ? ", not all hex" : ""),
                     env::kCoordToken, hint);
  if (timeout) {
    char* end = nullptr;
    const double seconds = std::strtod(timeout, &end);
    if (end == timeout || *end != '\0' || !std::isfinite(seconds) || seconds <= 0)
      throw UsageError(std::string(env::kCoordHeartbeatTimeout) + " must be a positive number of seconds, not '" +
                           timeout + "'",
                       env::kCoordHeartbeatTimeout, hint);
    options.lost_after_seconds = seconds;
  }
  return std::make_unique<Reporter>(std::move(options), std::move(hello), std::move(on_lost));
}

void Reporter::set_position(const std::string& phase, int64_t epoch, int64_t epochs, int64_t step,
                            int64_t phase_step, int64_t phase_steps) {
  std::lock_guard<std::mutex> lock(mutex_);
  position_.phase = phase;
  position_.epoch = epoch;
  position_.epochs = epochs;
  position_.step = step;
  position_.phase_step = phase_step;
  position_.phase_steps = phase_steps;
  ++position_.work;
}

void Reporter::progress(const wire::Message& progress) {
  wire::Message message = progress;  // copied before the lock, to keep the lock short
  message.type = wire::MessageType::kProgress;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (lost_ || finishing_) return;
    const auto now = Clock::now();
    const bool last_step = position_.phase_steps > 0 && position_.phase_step >= position_.phase_steps;
    const bool new_phase = !any_progress_ || position_.phase != last_progress_phase_;
    if (!last_step && !new_phase && now - last_progress_ < span(options_.progress_seconds)) return;
    message.phase = position_.phase;
    message.epoch = position_.epoch;
    message.epochs = position_.epochs;
    message.step = position_.step;
    message.phase_step = position_.phase_step;
    message.phase_steps = position_.phase_steps;
    message.work = position_.work;
    last_progress_ = now;
    last_progress_phase_ = position_.phase;
    any_progress_ = true;
    queue(std::move(message));
  }
  wake_thread();
}

void Reporter::send(wire::Message message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (lost_ || finishing_) return;
    // Done is the last frame the launcher accepts: nothing may be queued behind it.
    if (message.type == wire::MessageType::kDone) finishing_ = true;
    queue(std::move(message));
  }
  wake_thread();
}

void Reporter::finish(int code, double seconds) {
  const auto deadline = Clock::now() + span(std::max(0.0, seconds));
  wire::Message done;
  done.type = wire::MessageType::kDone;
  done.code = code;
  std::unique_lock<std::mutex> lock(mutex_);
  if (lost_ || finishing_) return;
  finishing_ = true;
  queue(std::move(done));
  lock.unlock();
  wake_thread();
  lock.lock();
  wake_.wait_until(lock, deadline, [this] { return lost_.load() || (queue_.empty() && !in_flight_); });
}

void Reporter::queue(wire::Message message) {
  if (queue_.size() >= options_.queue_limit) {
    auto oldest = std::find_if(queue_.begin(), queue_.end(),
                               [](const wire::Message& m) { return m.type == wire::MessageType::kProgress; });
    if (oldest != queue_.end()) {
      queue_.erase(oldest);
      ++dropped_;
    } else if (!must_keep(message.type)) {
      ++dropped_;
      return;
    }
  }
  queue_.push_back(std::move(message));
}

void Reporter::wake_thread() {
  // One byte per wake-up at most: the thread clears the flag before it looks at the queue.
  if (wake_pending_.exchange(true)) return;
  const char byte = 1;
  while (::write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
}

void Reporter::drain_wake() {
  // Empty the pipe first, then allow new bytes: clearing the flag first let a wake-up written in
  // between be read here with the flag left set, so every later wake-up (the destructor's too) was
  // skipped and the thread slept until its lost-after deadline. A call that finds the flag still
  // set changed its state before this returns, and the loop looks at the state next.
  char buffer[64];
  while (::read(wake_read_, buffer, sizeof buffer) > 0) {
  }
  wake_pending_.store(false);
}

void Reporter::declare_lost(const std::string& why) {
  bool tell = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (lost_) return;
    lost_ = true;
    // While the destructor runs, the owner of the handler may be half torn down; it asked us to stop anyway.
    tell = !closing_;
  }
  wake_.notify_all();
  if (!tell || !on_lost_) return;
  // An exception escaping this thread would terminate the rank; the handler owns its own errors.
  try {
    on_lost_(why);
  } catch (...) {
  }
}

void Reporter::run() {
  try {
    Fd socket(connect_launcher());
    if (socket.get() < 0) return;
    serve(socket.get());
  } catch (const std::exception& e) {
    declare_lost("the reporter for the launcher at " + options_.address + " failed: " + e.what());
  } catch (...) {
    declare_lost("the reporter for the launcher at " + options_.address + " failed");
  }
}

int Reporter::connect_launcher() {
  const auto deadline = Clock::now() + span(options_.lost_after_seconds);
  const std::string port = std::to_string(address_.port);
  std::string last_error = "no attempt";
  auto closing = [this] {
    std::lock_guard<std::mutex> lock(mutex_);
    return closing_;
  };
  // Waits on `fd` (or only the wake pipe when fd < 0) until `until`; the revents of `fd`.
  auto wait = [this](int fd, short events, Clock::time_point until) -> short {
    pollfd entries[2] = {{fd, events, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(entries, 2, poll_ms(Clock::now(), until)) < 0) return 0;
    if (entries[1].revents) drain_wake();
    return entries[0].revents;
  };
  for (;;) {
    if (closing()) return -1;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int resolved = ::getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &found);
    if (resolved != 0) {
      last_error = resolved == EAI_SYSTEM ? error_text(errno) : ::gai_strerror(resolved);
    } else {
      std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(found, ::freeaddrinfo);
      for (const addrinfo* a = found; a; a = a->ai_next) {
        Fd fd(::socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (fd.get() < 0) {
          last_error = error_text(errno);
          continue;
        }
        // A non-blocking connect interrupted by a signal goes on in the background, like EINPROGRESS.
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd.release();
        if (errno != EINPROGRESS && errno != EINTR) {
          last_error = error_text(errno);
          continue;
        }
        for (;;) {
          if (closing()) return -1;
          if (Clock::now() >= deadline) {
            last_error = "timed out";
            break;
          }
          if (!(wait(fd.get(), POLLOUT, deadline) & (POLLOUT | POLLERR | POLLHUP))) continue;
          int error = 0;
          socklen_t size = sizeof error;
          if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
          if (error == 0) return fd.release();
          last_error = error_text(error);
          break;
        }
      }
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      declare_lost("could not connect to the launcher at " + options_.address + " within " +
                   seconds_text(options_.lost_after_seconds) + " (" + last_error + ")");
      return -1;
    }
    const auto retry_at = std::min(deadline, now + span(kConnectRetrySeconds));
    while (Clock::now() < retry_at && !closing()) wait(-1, 0, retry_at);
  }
}

void Reporter::serve(int fd) {
  const int no_delay = 1;  // frames are small and a heartbeat should not wait for the next one
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
  const auto heartbeat_every = span(options_.heartbeat_seconds);
  const auto lost_after = span(options_.lost_after_seconds);
  std::string out = options_.token + wire::frame(hello_);
  wire::FrameReader reader;
  auto now = Clock::now();
  auto last_heard = now;
  auto next_heartbeat = now + heartbeat_every;
  std::optional<Clock::time_point> close_by;
  bool done_in_out = false;   // `out` holds the done frame
  bool done_written = false;  // the launcher expects nothing more; its close is no loss
  std::vector<wire::Message> batch;

  for (;;) {
    now = Clock::now();
    bool closing = false;
    bool queue_empty = true;
    std::optional<wire::Message> heartbeat;
    batch.clear();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing = closing_;
      if (out.empty()) {
        while (!queue_.empty() && batch.size() < kBatchMessages) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        const bool was_in_flight = in_flight_;
        in_flight_ = !batch.empty();
        if (was_in_flight && !in_flight_) wake_.notify_all();
        if (!done_in_out && !done_written && now >= next_heartbeat) heartbeat = position_;
      }
      queue_empty = queue_.empty();
    }
    // Encoding happens outside the lock: training threads only ever wait for a queue operation.
    for (const auto& message : batch) {
      if (done_in_out) break;  // nothing goes after done
      out += wire::frame(message);
      done_in_out = message.type == wire::MessageType::kDone;
    }
    if (heartbeat && !done_in_out) out += wire::frame(*heartbeat);
    // A heartbeat that finds the send buffer still full is skipped: the launcher is not reading.
    if (now >= next_heartbeat) next_heartbeat = now + heartbeat_every;

    if (!out.empty()) {
      std::string error;
      if (!write_some(fd, out, &error)) {
        if (done_written || closing) return;
        declare_lost("could not send to the launcher at " + options_.address + " (" + error + ")");
        return;
      }
      if (out.empty()) {
        if (done_in_out && !done_written) {
          done_written = true;
          ::shutdown(fd, SHUT_WR);
        }
        continue;  // take the next batch and let finish() know at once
      }
    }

    if (closing) {
      if (!close_by) close_by = now + span(kCloseSeconds);
      if (out.empty() && queue_empty) {
        close_gracefully(fd, std::min(*close_by, now + span(kLingerSeconds)));
        return;
      }
      if (now >= *close_by) return;
    }

    auto deadline = now + std::chrono::seconds(60);
    if (!done_written) deadline = std::min(deadline, last_heard + lost_after);
    if (out.empty() && !done_in_out && !done_written) deadline = std::min(deadline, next_heartbeat);
    if (close_by) deadline = std::min(deadline, *close_by);
    pollfd entries[2] = {{fd, static_cast<short>(POLLIN | (out.empty() ? 0 : POLLOUT)), 0}, {wake_read_, POLLIN, 0}};
    const int ready = ::poll(entries, 2, poll_ms(now, deadline));
    if (ready < 0 && errno != EINTR)
      throw Error("poll() failed: " + error_text(errno), options_.address);
    if (ready > 0 && entries[1].revents) drain_wake();
    if (ready > 0 && (entries[0].revents & (POLLIN | POLLERR | POLLHUP))) {
      char buffer[4096];
      for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
          last_heard = Clock::now();
          if (!reader.feed(buffer, static_cast<size_t>(n))) {
            if (done_written || closing) return;
            declare_lost("the launcher at " + options_.address + " sent a malformed frame");
            return;
          }
          // Pings only prove the launcher is alive; nothing else from it needs an answer.
          while (reader.next()) {
          }
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (done_written || closing) return;
        declare_lost(n == 0 ? "the launcher at " + options_.address + " closed the connection"
                            : "the connection to the launcher at " + options_.address + " failed (" +
                                  error_text(errno) + ")");
        return;
      }
    }
    if (!done_written && !closing && Clock::now() - last_heard >= lost_after) {
      declare_lost("heard nothing from the launcher at " + options_.address + " for " +
                   seconds_text(options_.lost_after_seconds));
      return;
    }
  }
}

}  // namespace strike::worker
