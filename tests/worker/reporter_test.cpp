// Tests of the rank's reporter against a fake launcher: hello, heartbeats, rate and queue limits, loss, environment.
#include "worker/report/reporter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/error.h"

namespace strike::worker {
namespace {

namespace wire = core::wire;
using Clock = std::chrono::steady_clock;
using wire::MessageType;

std::string job_token() { return std::string(wire::kTokenChars / 2, 'a') + std::string(wire::kTokenChars / 2, '7'); }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

int ms_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<int64_t>(left, 0));
}

// Polls rather than sleeping a fixed time: the machine running the tests may be loaded.
template <class Condition>
bool eventually(Condition condition, double seconds = 5) {
  const auto deadline = after(seconds);
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// The launcher's side as the reporter sees it: one listening socket on 127.0.0.1, one connection.
// Single-threaded: the reporter has its own thread, so the test can accept and read in turn.
class FakeLauncher {
 public:
  // Not listening: the port is held but connections are refused until listen().
  explicit FakeLauncher(bool listening = true) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t size = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
      ADD_FAILURE() << "cannot bind a socket on 127.0.0.1";
    port_ = ntohs(address.sin_port);
    if (listening) listen();
  }
  ~FakeLauncher() {
    close_connection();
    if (listener_ >= 0) ::close(listener_);
  }
  FakeLauncher(const FakeLauncher&) = delete;
  FakeLauncher& operator=(const FakeLauncher&) = delete;

  // Before listen(): accepted connections inherit it, so a sender soon fills the window.
  void shrink_receive_buffer() {
    const int bytes = 4096;
    ASSERT_EQ(::setsockopt(listener_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes), 0);
  }
  void listen() { ASSERT_EQ(::listen(listener_, 8), 0); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  bool accept(double seconds = 5) {
    pollfd entry{listener_, POLLIN, 0};
    if (::poll(&entry, 1, ms_until(after(seconds))) <= 0) return false;
    connection_ = ::accept(listener_, nullptr, nullptr);
    return connection_ >= 0;
  }

  // The token preamble; bytes after it go to the frame reader.
  std::string read_token(double seconds = 5) {
    const auto deadline = after(seconds);
    while (raw_.size() < wire::kTokenChars && receive(deadline)) {
    }
    std::string token = raw_.substr(0, wire::kTokenChars);
    if (raw_.size() > wire::kTokenChars) {
      EXPECT_TRUE(reader_.feed(raw_.data() + wire::kTokenChars, raw_.size() - wire::kTokenChars));
    }
    token_read_ = true;
    return token;
  }

  // The next frame; nullopt on timeout or end of stream.
  std::optional<wire::Message> next(double seconds = 5) {
    const auto deadline = after(seconds);
    for (;;) {
      if (auto payload = reader_.next()) {
        std::string why;
        auto message = wire::parse(*payload, &why);
        EXPECT_TRUE(message) << why;
        return message;
      }
      if (!receive(deadline)) return std::nullopt;
    }
  }

  // The next frame that is not a heartbeat.
  std::optional<wire::Message> next_event(double seconds = 5) {
    const auto deadline = after(seconds);
    for (;;) {
      auto message = next(std::chrono::duration<double>(deadline - Clock::now()).count());
      if (!message || message->type != MessageType::kHeartbeat) return message;
    }
  }

  // True once the reporter ends its side (reading and discarding frames until then).
  bool reaches_end(double seconds = 5) {
    const auto deadline = after(seconds);
    while (!ended_ && Clock::now() < deadline) next(std::chrono::duration<double>(deadline - Clock::now()).count());
    return ended_;
  }

  void ping() {
    wire::Message ping;
    ping.type = MessageType::kPing;
    const std::string bytes = wire::frame(ping);
    ASSERT_EQ(::send(connection_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }

  void close_connection() {
    if (connection_ >= 0) ::close(connection_);
    connection_ = -1;
  }

 private:
  // Reads what is there (waiting until `deadline`); false on timeout or end of stream.
  bool receive(Clock::time_point deadline) {
    if (ended_ || connection_ < 0) return false;
    pollfd entry{connection_, POLLIN, 0};
    const int ready = ::poll(&entry, 1, ms_until(deadline));
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::recv(connection_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
      ended_ = true;
      return false;
    }
    if (token_read_) {
      EXPECT_TRUE(reader_.feed(buffer, static_cast<size_t>(n)));
    } else {
      raw_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  int listener_ = -1;
  int connection_ = -1;
  uint16_t port_ = 0;
  std::string raw_;
  bool token_read_ = false;
  bool ended_ = false;
  wire::FrameReader reader_;
};

// Records on_lost calls (made on the reporter's thread).
struct LostCalls {
  std::atomic<int> count{0};
  std::mutex mutex;
  std::string why;
  Reporter::LostHandler handler() {
    return [this](const std::string& reason) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        why = reason;
      }
      ++count;
    };
  }
  std::string reason() {
    std::lock_guard<std::mutex> lock(mutex);
    return why;
  }
};

wire::Message hello() {
  wire::Message m;
  m.type = MessageType::kHello;
  m.rank = 3;
  m.world = 4;
  m.host = "node-7";
  m.pid = 4242;
  m.device = "cpu";
  return m;
}

ReporterOptions options_for(const FakeLauncher& launcher) {
  ReporterOptions options;
  options.address = launcher.address();
  options.token = job_token();
  return options;
}

wire::Message progress_with_loss(double loss) {
  wire::Message m;
  m.type = MessageType::kProgress;
  m.loss = loss;
  m.metric = 0.5;
  m.samples_per_sec = 1000;
  m.lr = 0.1;
  return m;
}

wire::Message checkpoint(const std::string& path) {
  wire::Message m;
  m.type = MessageType::kCheckpoint;
  m.path = path;
  return m;
}

// Accepts the reporter's connection and checks its token and hello.
void accept_and_greet(FakeLauncher& launcher) {
  ASSERT_TRUE(launcher.accept());
  ASSERT_EQ(launcher.read_token(), job_token());
  const auto first = launcher.next();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->type, MessageType::kHello);
}

TEST(Reporter, SendsTokenThenHello) {
  FakeLauncher launcher;
  LostCalls lost;
  Reporter reporter(options_for(launcher), hello(), lost.handler());
  ASSERT_TRUE(launcher.accept());
  EXPECT_EQ(launcher.read_token(), job_token());
  const auto first = launcher.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, MessageType::kHello);
  EXPECT_EQ(first->rank, 3);
  EXPECT_EQ(first->world, 4);
  EXPECT_EQ(first->host, "node-7");
  EXPECT_EQ(first->pid, 4242);
  EXPECT_EQ(first->device, "cpu");
  EXPECT_EQ(lost.count, 0);
  EXPECT_FALSE(reporter.lost());
}

TEST(Reporter, HeartbeatsCarryTheLatestPositionAndGrowingWork) {
  FakeLauncher launcher;
  LostCalls lost;
  auto options = options_for(launcher);
  options.heartbeat_seconds = 0.05;
  Reporter reporter(options, hello(), lost.handler());
  accept_and_greet(launcher);

  // The next heartbeat with at least `work`, checking that work never goes back.
  int64_t last_work = 0;
  auto heartbeat_with_work = [&](int64_t work) -> std::optional<wire::Message> {
    const auto deadline = after(5);
    while (Clock::now() < deadline) {
      auto m = launcher.next(1);
      if (!m) continue;
      EXPECT_EQ(m->type, MessageType::kHeartbeat);
      EXPECT_GE(m->work, last_work);
      last_work = m->work;
      if (m->work >= work) return m;
    }
    return std::nullopt;
  };

  reporter.set_position("train", 1, 3, 7, 7, 100);
  auto beat = heartbeat_with_work(1);
  ASSERT_TRUE(beat);
  EXPECT_EQ(beat->work, 1);
  EXPECT_EQ(beat->phase, "train");
  EXPECT_EQ(beat->epoch, 1);
  EXPECT_EQ(beat->epochs, 3);
  EXPECT_EQ(beat->step, 7);
  EXPECT_EQ(beat->phase_step, 7);
  EXPECT_EQ(beat->phase_steps, 100);

  for (int64_t step = 8; step <= 10; ++step) reporter.set_position("val", 2, 3, step, step - 7, 50);
  beat = heartbeat_with_work(4);
  ASSERT_TRUE(beat);
  EXPECT_EQ(beat->work, 4);
  EXPECT_EQ(beat->phase, "val");
  EXPECT_EQ(beat->epoch, 2);
  EXPECT_EQ(beat->step, 10);
  EXPECT_EQ(beat->phase_step, 3);

  // The interval: the mean gap over several beats, loosely bounded for a loaded machine.
  const int kBeats = 8;
  ASSERT_TRUE(launcher.next(1));
  const auto start = Clock::now();
  for (int i = 0; i < kBeats; ++i) ASSERT_TRUE(heartbeat_with_work(4));
  const double gap = seconds_since(start) / kBeats;
  EXPECT_GT(gap, 0.03);
  EXPECT_LT(gap, 0.25);
  EXPECT_EQ(lost.count, 0);
}

TEST(Reporter, ProgressIsRateLimitedButFirstAndLastOfEachPhaseGo) {
  FakeLauncher launcher;
  LostCalls lost;
  auto options = options_for(launcher);
  options.progress_seconds = 60;  // longer than the test: only the rule's exceptions go out
  Reporter reporter(options, hello(), lost.handler());
  accept_and_greet(launcher);

  for (int64_t s = 1; s <= 200; ++s) {
    reporter.set_position("train", 1, 2, s, s, 200);
    reporter.progress(progress_with_loss(static_cast<double>(s)));
  }
  for (int64_t s = 1; s <= 50; ++s) {
    reporter.set_position("val", 1, 2, 200, s, 50);
    reporter.progress(progress_with_loss(1000.0 + s));
  }
  reporter.finish(0, 5);

  std::vector<wire::Message> progress;
  for (;;) {
    auto m = launcher.next_event();
    ASSERT_TRUE(m);
    if (m->type == MessageType::kDone) break;
    ASSERT_EQ(m->type, MessageType::kProgress);
    progress.push_back(*m);
  }
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[0].phase, "train");
  EXPECT_EQ(progress[0].phase_step, 1);
  EXPECT_EQ(progress[0].loss, 1.0);
  EXPECT_EQ(progress[1].phase, "train");
  EXPECT_EQ(progress[1].phase_step, 200);
  EXPECT_EQ(progress[1].phase_steps, 200);
  EXPECT_EQ(progress[1].step, 200);
  EXPECT_EQ(progress[1].epoch, 1);
  EXPECT_EQ(progress[1].epochs, 2);
  EXPECT_EQ(progress[1].work, 200);
  EXPECT_EQ(progress[1].loss, 200.0);
  EXPECT_EQ(progress[1].metric, 0.5);
  EXPECT_EQ(progress[1].samples_per_sec, 1000.0);
  EXPECT_EQ(progress[1].lr, 0.1);
  EXPECT_EQ(progress[2].phase, "val");
  EXPECT_EQ(progress[2].phase_step, 1);
  EXPECT_EQ(progress[3].phase, "val");
  EXPECT_EQ(progress[3].phase_step, 50);
  EXPECT_EQ(progress[3].loss, 1050.0);
  EXPECT_EQ(reporter.dropped(), 0);
}

TEST(Reporter, ProgressGoesAgainOnceTheIntervalHasPassed) {
  FakeLauncher launcher;
  LostCalls lost;
  auto options = options_for(launcher);
  options.progress_seconds = 0.2;
  Reporter reporter(options, hello(), lost.handler());
  accept_and_greet(launcher);

  reporter.set_position("train", 1, 1, 1, 1, 1000);
  reporter.progress(progress_with_loss(1));
  reporter.set_position("train", 1, 1, 2, 2, 1000);
  reporter.progress(progress_with_loss(2));  // within the interval: not sent
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  reporter.set_position("train", 1, 1, 3, 3, 1000);
  reporter.progress(progress_with_loss(3));
  reporter.finish(0, 5);

  std::vector<int64_t> steps;
  for (auto m = launcher.next_event(); m && m->type != MessageType::kDone; m = launcher.next_event())
    steps.push_back(m->phase_step);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 3}));
}

// The reporter cannot connect while the messages are queued (the port refuses), so the queue
// fills deterministically; then the launcher starts listening and receives what was kept.
TEST(Reporter, FullQueueDropsTheOldestProgressButKeepsEvents) {
  FakeLauncher launcher(false);
  LostCalls lost;
  auto options = options_for(launcher);
  options.queue_limit = 4;
  options.progress_seconds = 0;
  Reporter reporter(options, hello(), lost.handler());

  for (int64_t s = 1; s <= 10; ++s) {
    reporter.set_position("train", 1, 1, s, s, 100);
    reporter.progress(progress_with_loss(static_cast<double>(s)));
  }
  EXPECT_EQ(reporter.dropped(), 6);
  reporter.send(checkpoint("/runs/a/checkpoints/last.pt"));
  EXPECT_EQ(reporter.dropped(), 7);
  const auto start = Clock::now();
  reporter.finish(7, 0);
  EXPECT_LT(seconds_since(start), 0.5);
  EXPECT_EQ(reporter.dropped(), 8);

  launcher.listen();
  accept_and_greet(launcher);
  std::vector<wire::Message> events;
  for (auto m = launcher.next_event(); m; m = launcher.next_event()) {
    events.push_back(*m);
    if (m->type == MessageType::kDone) break;
  }
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, MessageType::kProgress);
  EXPECT_EQ(events[0].phase_step, 9);
  EXPECT_EQ(events[1].type, MessageType::kProgress);
  EXPECT_EQ(events[1].phase_step, 10);
  EXPECT_EQ(events[2].type, MessageType::kCheckpoint);
  EXPECT_EQ(events[2].path, "/runs/a/checkpoints/last.pt");
  EXPECT_EQ(events[3].type, MessageType::kDone);
  EXPECT_EQ(events[3].code, 7);
  EXPECT_EQ(lost.count, 0);
}

TEST(Reporter, EventsAreKeptBeyondTheLimitAndNewProgressIsDropped) {
  FakeLauncher launcher(false);
  LostCalls lost;
  auto options = options_for(launcher);
  options.queue_limit = 2;
  options.progress_seconds = 0;
  Reporter reporter(options, hello(), lost.handler());

  for (int i = 1; i <= 3; ++i) reporter.send(checkpoint("/c/" + std::to_string(i)));
  EXPECT_EQ(reporter.dropped(), 0);
  reporter.progress(progress_with_loss(1));
  EXPECT_EQ(reporter.dropped(), 1);
  wire::Message error;
  error.type = MessageType::kError;
  error.text = "out of memory";
  reporter.send(error);
  reporter.finish(1, 0);
  EXPECT_EQ(reporter.dropped(), 1);

  launcher.listen();
  accept_and_greet(launcher);
  std::vector<MessageType> types;
  for (auto m = launcher.next_event(); m; m = launcher.next_event()) {
    types.push_back(m->type);
    if (m->type == MessageType::kError) {
      EXPECT_EQ(m->text, "out of memory");
    }
    if (m->type == MessageType::kDone) break;
  }
  EXPECT_EQ(types, (std::vector<MessageType>{MessageType::kCheckpoint, MessageType::kCheckpoint,
                                              MessageType::kCheckpoint, MessageType::kError, MessageType::kDone}));
}

TEST(Reporter, FinishDeliversDoneLastAndTheLaunchersCloseIsNoLoss) {
  FakeLauncher launcher;
  LostCalls lost;
  auto reporter = std::make_unique<Reporter>(options_for(launcher), hello(), lost.handler());
  accept_and_greet(launcher);
  reporter->send(checkpoint("/c/1"));
  const auto start = Clock::now();
  reporter->finish(3, 5);
  EXPECT_LT(seconds_since(start), 1.0);
  reporter->send(checkpoint("/c/after-done"));  // ignored: done is last

  auto m = launcher.next_event();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, MessageType::kCheckpoint);
  m = launcher.next_event();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, MessageType::kDone);
  EXPECT_EQ(m->code, 3);
  EXPECT_TRUE(launcher.reaches_end(2));  // nothing after done

  launcher.close_connection();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(lost.count, 0);
  EXPECT_FALSE(reporter->lost());
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 1.5);
}

TEST(Reporter, LostOnceWhenTheLauncherClosesTheConnection) {
  FakeLauncher launcher;
  LostCalls lost;
  auto reporter = std::make_unique<Reporter>(options_for(launcher), hello(), lost.handler());
  accept_and_greet(launcher);
  const auto start = Clock::now();
  launcher.close_connection();
  ASSERT_TRUE(eventually([&] { return lost.count > 0; }));
  EXPECT_LT(seconds_since(start), 0.5);
  EXPECT_TRUE(reporter->lost());
  EXPECT_NE(lost.reason().find("closed the connection"), std::string::npos) << lost.reason();
  EXPECT_NE(lost.reason().find(launcher.address()), std::string::npos) << lost.reason();

  // Later calls are no-ops, quick, and do not report again.
  reporter->set_position("train", 1, 1, 1, 1, 10);
  reporter->progress(progress_with_loss(1));
  reporter->send(checkpoint("/c/1"));
  const auto finishing = Clock::now();
  reporter->finish(1, 5);
  EXPECT_LT(seconds_since(finishing), 0.5);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(lost.count, 1);
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 1.0);
  EXPECT_EQ(lost.count, 1);
}

TEST(Reporter, LostWhenTheLauncherFallsSilent) {
  FakeLauncher launcher;
  LostCalls lost;
  auto options = options_for(launcher);
  options.heartbeat_seconds = 0.05;
  options.lost_after_seconds = 0.4;
  auto reporter = std::make_unique<Reporter>(options, hello(), lost.handler());
  accept_and_greet(launcher);
  const auto start = Clock::now();
  ASSERT_TRUE(eventually([&] { return lost.count > 0; }));
  const double waited = seconds_since(start);
  EXPECT_GT(waited, 0.2);
  EXPECT_LT(waited, 3.0);
  EXPECT_NE(lost.reason().find("heard nothing"), std::string::npos) << lost.reason();
  EXPECT_NE(lost.reason().find(launcher.address()), std::string::npos) << lost.reason();
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 1.0);
  EXPECT_EQ(lost.count, 1);
}

TEST(Reporter, PingsKeepTheLauncherAlive) {
  FakeLauncher launcher;
  LostCalls lost;
  auto options = options_for(launcher);
  options.heartbeat_seconds = 0.05;
  options.lost_after_seconds = 0.6;
  Reporter reporter(options, hello(), lost.handler());
  accept_and_greet(launcher);
  const auto until = after(1.5);  // well past lost_after_seconds
  while (Clock::now() < until) {
    launcher.ping();
    const auto next_ping = after(0.05);
    while (Clock::now() < next_ping) launcher.next(std::chrono::duration<double>(next_ping - Clock::now()).count());
  }
  EXPECT_EQ(lost.count, 0);
  EXPECT_FALSE(reporter.lost());
}

TEST(Reporter, LostWhenNothingListensAtTheAddress) {
  FakeLauncher launcher(false);
  LostCalls lost;
  auto options = options_for(launcher);
  options.lost_after_seconds = 0.5;
  const auto start = Clock::now();
  auto reporter = std::make_unique<Reporter>(options, hello(), lost.handler());
  ASSERT_TRUE(eventually([&] { return lost.count > 0; }));
  const double waited = seconds_since(start);
  EXPECT_GT(waited, 0.45);
  EXPECT_LT(waited, 3.0);
  EXPECT_NE(lost.reason().find("could not connect"), std::string::npos) << lost.reason();
  EXPECT_NE(lost.reason().find(launcher.address()), std::string::npos) << lost.reason();
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 1.0);
  EXPECT_EQ(lost.count, 1);
}

TEST(Reporter, PublicCallsNeverWaitForTheNetwork) {
  FakeLauncher launcher(false);  // connections refused: the thread keeps retrying
  LostCalls lost;
  auto options = options_for(launcher);
  options.progress_seconds = 0;
  auto reporter = std::make_unique<Reporter>(options, hello(), lost.handler());
  const int kCalls = 20000;
  const auto start = Clock::now();
  for (int i = 1; i <= kCalls; ++i) {
    reporter->set_position("train", 1, 1, i, i, kCalls);
    reporter->progress(progress_with_loss(i));
    if (i % 1000 == 0) reporter->send(checkpoint("/c/" + std::to_string(i)));
  }
  EXPECT_LT(seconds_since(start), 2.0);
  EXPECT_GT(reporter->dropped(), 0);
  const auto finishing = Clock::now();
  reporter->finish(0, 0.2);  // waits its time: nothing can be flushed
  const double finished = seconds_since(finishing);
  EXPECT_GT(finished, 0.15);
  EXPECT_LT(finished, 1.0);
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 1.0);
  EXPECT_EQ(lost.count, 0);  // the destructor stopped it before lost_after_seconds
}

TEST(Reporter, DestructorReturnsPromptlyWhenTheLauncherNeverReadsNorCloses) {
  FakeLauncher launcher;
  LostCalls lost;
  auto reporter = std::make_unique<Reporter>(options_for(launcher), hello(), lost.handler());
  accept_and_greet(launcher);
  for (int i = 0; i < 100; ++i) reporter->send(checkpoint("/c/" + std::to_string(i)));
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 1.5);
  EXPECT_EQ(lost.count, 0);
}

// Megabytes of events against a small receive window: the socket stops taking data, so finish()
// and the destructor must give up on their own clocks.
TEST(Reporter, FinishAndDestructorGiveUpOnALauncherThatStopsReading) {
  FakeLauncher launcher(false);
  launcher.shrink_receive_buffer();
  launcher.listen();
  LostCalls lost;
  auto reporter = std::make_unique<Reporter>(options_for(launcher), hello(), lost.handler());
  accept_and_greet(launcher);
  const std::string long_path(wire::kMaxStringBytes - 16, 'p');
  for (int i = 0; i < 500; ++i) reporter->send(checkpoint(long_path));
  const auto finishing = Clock::now();
  reporter->finish(0, 0.3);
  EXPECT_LT(seconds_since(finishing), 1.0);
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 2.0);
  EXPECT_EQ(lost.count, 0);
}

TEST(Reporter, DestructorReturnsPromptlyWhenTheLauncherIsGone) {
  auto launcher = std::make_unique<FakeLauncher>();
  LostCalls lost;
  auto reporter = std::make_unique<Reporter>(options_for(*launcher), hello(), lost.handler());
  accept_and_greet(*launcher);
  launcher.reset();
  reporter->send(checkpoint("/c/1"));
  const auto closing = Clock::now();
  reporter.reset();
  EXPECT_LT(seconds_since(closing), 1.5);
  EXPECT_LE(lost.count, 1);
}

// Sets the coordination variables for one test and restores them after.
class CoordEnvironment {
 public:
  CoordEnvironment() {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      saved_.emplace_back(value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  ~CoordEnvironment() {
    for (size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i]) ::setenv(kNames[i], saved_[i]->c_str(), 1);
      else ::unsetenv(kNames[i]);
    }
  }
  void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

 private:
  static constexpr const char* kNames[] = {env::kCoordAddress, env::kCoordToken, env::kCoordHeartbeatTimeout};
  std::vector<std::optional<std::string>> saved_;
};

// The UsageError's text, or "" when none was thrown.
std::string usage_error_from_environment() {
  try {
    Reporter::from_environment(hello(), [](const std::string&) {});
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(ReporterEnvironment, NoVariablesMeansNoReporter) {
  CoordEnvironment environment;
  EXPECT_EQ(Reporter::from_environment(hello(), [](const std::string&) {}), nullptr);
}

TEST(ReporterEnvironment, MalformedVariablesAreUsageErrors) {
  FakeLauncher launcher(false);
  {
    CoordEnvironment environment;
    environment.set(env::kCoordAddress, launcher.address());
    const std::string what = usage_error_from_environment();
    EXPECT_NE(what.find(env::kCoordToken), std::string::npos) << what;
  }
  {
    CoordEnvironment environment;
    environment.set(env::kCoordToken, job_token());
    const std::string what = usage_error_from_environment();
    EXPECT_NE(what.find(env::kCoordAddress), std::string::npos) << what;
  }
  {
    CoordEnvironment environment;
    environment.set(env::kCoordAddress, launcher.address());
    environment.set(env::kCoordToken, "abc123");
    const std::string what = usage_error_from_environment();
    EXPECT_NE(what.find(env::kCoordToken), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(wire::kTokenChars)), std::string::npos) << what;
  }
  {
    CoordEnvironment environment;
    const std::string not_hex(wire::kTokenChars, 'z');
    environment.set(env::kCoordAddress, launcher.address());
    environment.set(env::kCoordToken, not_hex);
    const std::string what = usage_error_from_environment();
    EXPECT_NE(what.find(env::kCoordToken), std::string::npos) << what;
    EXPECT_EQ(what.find(not_hex), std::string::npos) << "the token is a secret: " << what;
  }
  {
    CoordEnvironment environment;
    environment.set(env::kCoordAddress, "no-port-here");
    environment.set(env::kCoordToken, job_token());
    const std::string what = usage_error_from_environment();
    EXPECT_NE(what.find(env::kCoordAddress), std::string::npos) << what;
  }
  for (const char* timeout : {"abc", "0", "-2", "1.5x", "nan", "inf"}) {
    CoordEnvironment environment;
    environment.set(env::kCoordAddress, launcher.address());
    environment.set(env::kCoordToken, job_token());
    environment.set(env::kCoordHeartbeatTimeout, timeout);
    const std::string what = usage_error_from_environment();
    EXPECT_NE(what.find(env::kCoordHeartbeatTimeout), std::string::npos) << timeout << ": " << what;
  }
}

TEST(ReporterEnvironment, TheTimeoutSetsWhenTheLauncherIsLost) {
  FakeLauncher launcher(false);
  CoordEnvironment environment;
  environment.set(env::kCoordAddress, launcher.address());
  environment.set(env::kCoordToken, job_token());
  environment.set(env::kCoordHeartbeatTimeout, "0.3");
  LostCalls lost;
  auto reporter = Reporter::from_environment(hello(), lost.handler());
  ASSERT_NE(reporter, nullptr);
  ASSERT_TRUE(eventually([&] { return lost.count > 0; }));
  EXPECT_NE(lost.reason().find("0.3 s"), std::string::npos) << lost.reason();
}

}  // namespace
}  // namespace strike::worker
