// Tests of the coordination server over real sockets: authentication, framing, pings, floods and shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "launcher/coord/server.h"

namespace strike::launcher {
namespace {

namespace asio = boost::asio;
using core::wire::Message;
using core::wire::MessageType;
using Ms = std::chrono::milliseconds;
using TestClock = std::chrono::steady_clock;

const std::string kToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
// Generous: the machine running the tests may be busy; waits end as soon as their condition holds.
constexpr Ms kPatience{5000};

// Polls `condition` until it holds or `patience` runs out; returns whether it held.
template <class Condition>
bool eventually(Condition condition, Ms patience = kPatience) {
  auto deadline = TestClock::now() + patience;
  while (!condition()) {
    if (TestClock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(2));
  }
  return true;
}

std::string raw_frame(const std::string& payload) {
  uint32_t size = static_cast<uint32_t>(payload.size());
  std::string frame = {static_cast<char>(size >> 24), static_cast<char>(size >> 16), static_cast<char>(size >> 8),
                       static_cast<char>(size)};
  return frame + payload;
}

Message hello(int rank, const std::string& host) {
  Message m;
  m.type = MessageType::kHello;
  m.rank = rank;
  m.world = 4;
  m.host = host;
  m.pid = 4242;
  m.device = "cpu";
  return m;
}

Message progress() {
  Message m;
  m.type = MessageType::kProgress;
  m.phase = "train";
  m.epoch = 2;
  m.epochs = 5;
  m.step = 1300;
  m.phase_step = 1200;
  m.phase_steps = 1875;
  m.work = 3075;
  m.loss = 0.25;
  m.metric = 0.875;
  m.samples_per_sec = 1500;
  m.lr = 0.01;
  return m;
}

// A blocking client socket on 127.0.0.1, read with deadlines.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() { hang_up(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  void hang_up() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // False once the server has closed the connection.
  bool send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // The next frame's payload, or nullopt at the deadline or when the connection ends.
  std::optional<std::string> read_frame(Ms patience = kPatience) {
    auto deadline = TestClock::now() + patience;
    while (true) {
      if (in_.size() >= 4) {
        uint32_t size = (uint32_t(uint8_t(in_[0])) << 24) | (uint32_t(uint8_t(in_[1])) << 16) |
                        (uint32_t(uint8_t(in_[2])) << 8) | uint32_t(uint8_t(in_[3]));
        if (in_.size() >= 4 + size) {
          std::string payload = in_.substr(4, size);
          in_.erase(0, 4 + size);
          return payload;
        }
      }
      if (fill(deadline) <= 0) return std::nullopt;
    }
  }

  // Reads and discards until the server closes the connection; false if it is still open at the deadline.
  bool closed_by_server(Ms patience = kPatience) {
    auto deadline = TestClock::now() + patience;
    while (true) {
      int got = fill(deadline);
      if (got < 0) return true;
      if (got == 0) return false;
      in_.clear();
    }
  }

 private:
  // Reads what is there: >0 bytes read, 0 at the deadline, -1 when the connection is over.
  int fill(TestClock::time_point deadline) {
    while (true) {
      auto left = std::chrono::duration_cast<Ms>(deadline - TestClock::now()).count();
      if (left <= 0) return 0;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return 0;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;  // end of stream, or reset
      in_.append(buffer, static_cast<size_t>(n));
      return static_cast<int>(n);
    }
  }

  int fd_ = -1;
  std::string in_;
};

// A server on 127.0.0.1, port 0, with its event loop on a thread of its own; everything that touches
// the server goes through on_loop().
class Harness {
 public:
  explicit Harness(ServerLimits limits) : work_(asio::make_work_guard(io_)), sampler_(io_) {
    CoordServer::Handlers handlers;
    handlers.on_message = [this](CoordServer::ConnectionId id, const Message& m) {
      std::lock_guard<std::mutex> lock(mutex_);
      messages_.emplace_back(id, m);
    };
    handlers.on_close = [this](CoordServer::ConnectionId id, const std::string& why) {
      std::lock_guard<std::mutex> lock(mutex_);
      closes_.emplace_back(id, why);
    };
    server_ = std::make_unique<CoordServer>(io_, "127.0.0.1", 0, kToken, limits, std::move(handlers));
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Harness() {
    on_loop([this] {
      sampler_.cancel();
      server_.reset();
      return 0;
    });
    // With the server gone and the guard released, run() returns once the aborted operations have
    // run their handlers: a server that left something pending on dead state would hang or crash here.
    work_.reset();
    thread_.join();
  }

  template <class F>
  auto on_loop(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  uint16_t port() const { return port_; }
  ServerStats stats() {
    return on_loop([this] { return server_->stats(); });
  }
  void close() {
    on_loop([this] {
      server_->close();
      return 0;
    });
  }
  std::vector<std::pair<CoordServer::ConnectionId, Message>> messages() {
    std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
  }
  std::vector<std::pair<CoordServer::ConnectionId, std::string>> closes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return closes_;
  }

  // Samples the stats on the loop every millisecond, between any two handlers, keeping the maxima.
  void start_sampling() {
    on_loop([this] {
      sample();
      return 0;
    });
  }
  std::pair<size_t, size_t> max_pending_and_buffered() {
    return on_loop([this] { return std::make_pair(max_pending_, max_buffered_); });
  }

 private:
  void sample() {
    ServerStats s = server_->stats();
    max_pending_ = std::max(max_pending_, s.pending);
    max_buffered_ = std::max(max_buffered_, s.buffered_bytes);
    sampler_.expires_after(Ms(1));
    sampler_.async_wait([this](boost::system::error_code ec) {
      if (!ec && server_) sample();
    });
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer sampler_;
  std::unique_ptr<CoordServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::pair<CoordServer::ConnectionId, Message>> messages_;
  std::vector<std::pair<CoordServer::ConnectionId, std::string>> closes_;
  size_t max_pending_ = 0, max_buffered_ = 0;
};

ServerLimits quick_limits() {
  ServerLimits l;
  l.auth_timeout_seconds = 2;
  l.ping_seconds = 0.05;
  return l;
}

TEST(CoordServer, GoodClientIsHeardAndPinged) {
  Harness h(quick_limits());
  Client c(h.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(kToken + core::wire::frame(hello(1, "node7")) + core::wire::frame(progress())));
  ASSERT_TRUE(eventually([&] { return h.messages().size() == 2; }));
  auto got = h.messages();
  EXPECT_EQ(got[0].first, got[1].first);
  const Message& m = got[0].second;
  EXPECT_EQ(m.type, MessageType::kHello);
  EXPECT_EQ(m.rank, 1);
  EXPECT_EQ(m.world, 4);
  EXPECT_EQ(m.host, "node7");
  EXPECT_EQ(m.pid, 4242);
  const Message& p = got[1].second;
  EXPECT_EQ(p.type, MessageType::kProgress);
  EXPECT_EQ(p.phase, "train");
  EXPECT_EQ(p.epoch, 2);
  EXPECT_EQ(p.phase_step, 1200);
  EXPECT_EQ(p.phase_steps, 1875);
  EXPECT_EQ(p.work, 3075);
  EXPECT_DOUBLE_EQ(p.loss, 0.25);
  EXPECT_DOUBLE_EQ(p.samples_per_sec, 1500);

  for (int i = 0; i < 2; ++i) {
    auto ping = c.read_frame();
    ASSERT_TRUE(ping) << "no ping " << i;
    auto parsed = core::wire::parse(*ping);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->type, MessageType::kPing);
  }
  ServerStats s = h.stats();
  EXPECT_EQ(s.authenticated, 1u);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.bad_token + s.bad_frames + s.refused, 0u);
  EXPECT_TRUE(h.closes().empty());

  c.hang_up();
  ASSERT_TRUE(eventually([&] { return h.closes().size() == 1; }));
  EXPECT_EQ(h.closes()[0].first, got[0].first);
  EXPECT_EQ(h.stats().authenticated, 0u);
}

TEST(CoordServer, WrongTokenIsClosedAndNothingElseIsRead) {
  Harness h(quick_limits());
  Client c(h.port());
  std::string wrong = kToken;
  wrong[40] = wrong[40] == 'a' ? 'b' : 'a';
  c.send(wrong + core::wire::frame(hello(0, "intruder")));
  EXPECT_TRUE(c.closed_by_server());
  ASSERT_TRUE(eventually([&] { return h.stats().bad_token == 1; }));
  ServerStats s = h.stats();
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.authenticated, 0u);
  EXPECT_TRUE(h.messages().empty());
  EXPECT_TRUE(h.closes().empty());  // it never authenticated
}

TEST(CoordServer, SilenceIsClosedAtTheDeadline) {
  ServerLimits limits = quick_limits();
  limits.auth_timeout_seconds = 0.3;
  Harness h(limits);
  auto start = TestClock::now();
  Client silent(h.port());
  Client partial(h.port());
  partial.send(kToken.substr(0, 10));
  EXPECT_TRUE(silent.closed_by_server());
  EXPECT_TRUE(partial.closed_by_server());
  EXPECT_GE(TestClock::now() - start, Ms(250));
  ASSERT_TRUE(eventually([&] { return h.stats().bad_token == 2; }));
  EXPECT_EQ(h.stats().pending, 0u);
  EXPECT_TRUE(h.messages().empty());
}

TEST(CoordServer, GarbageAfterTheTokenIsNeverAMessage) {
  Harness h(quick_limits());
  std::mt19937 random(12345);
  std::string garbage;
  for (int i = 0; i < 3000; ++i) garbage += static_cast<char>(random() & 0xff);
  {
    Client bad(h.port());
    bad.send(kToken + garbage);
    // It is closed (a header over the limit) or left waiting for the rest of a frame; either way it
    // says nothing, and a second client is served.
    Client good(h.port());
    ASSERT_TRUE(good.send(kToken + core::wire::frame(hello(2, "second"))));
    ASSERT_TRUE(eventually([&] { return !h.messages().empty(); }));
    EXPECT_TRUE(good.read_frame().has_value());  // pinged
  }
  ASSERT_TRUE(eventually([&] { return h.stats().authenticated == 0; }));
  auto got = h.messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.host, "second");
}

TEST(CoordServer, OversizeOrEmptyFrameClosesTheConnection) {
  Harness h(quick_limits());
  Client big(h.port());
  uint32_t over = core::wire::kMaxFrameBytes + 1;
  std::string header = {static_cast<char>(over >> 24), static_cast<char>(over >> 16), static_cast<char>(over >> 8),
                        static_cast<char>(over)};
  big.send(kToken + core::wire::frame(hello(0, "big")) + header + std::string(100, 'x'));
  EXPECT_TRUE(big.closed_by_server());
  Client empty(h.port());
  empty.send(kToken + raw_frame(""));
  EXPECT_TRUE(empty.closed_by_server());
  ASSERT_TRUE(eventually([&] { return h.closes().size() == 2; }));
  EXPECT_EQ(h.stats().bad_frames, 2u);
  EXPECT_EQ(h.stats().authenticated, 0u);
  auto got = h.messages();
  ASSERT_EQ(got.size(), 1u);  // the hello before the oversize header was whole, so it counts
  EXPECT_EQ(got[0].second.host, "big");
}

TEST(CoordServer, MalformedMessagesAreDroppedAndTheConnectionStays) {
  Harness h(quick_limits());
  Client c(h.port());
  ASSERT_TRUE(c.send(kToken + raw_frame("{not json") + raw_frame(R"({"type":"no-such-type"})") +
                     raw_frame(R"({"type":"hello","rank":"one"})") + core::wire::frame(hello(3, "after"))));
  ASSERT_TRUE(eventually([&] { return h.messages().size() == 1; }));
  EXPECT_EQ(h.messages()[0].second.host, "after");
  EXPECT_EQ(h.stats().bad_frames, 3u);
  EXPECT_EQ(h.stats().authenticated, 1u);
  EXPECT_TRUE(c.read_frame().has_value());  // still pinged
  ASSERT_TRUE(c.send(core::wire::frame(progress())));
  ASSERT_TRUE(eventually([&] { return h.messages().size() == 2; }));
  EXPECT_TRUE(h.closes().empty());
}

TEST(CoordServer, FloodStaysBoundedAndGoodClientsGetThrough) {
  ServerLimits limits = quick_limits();
  limits.max_pending = 16;
  limits.auth_timeout_seconds = 1.0;
  Harness h(limits);
  h.start_sampling();
  constexpr int kFlood = 300;
  std::vector<std::unique_ptr<Client>> flood;
  std::mt19937 random(7);
  for (int i = 0; i < kFlood; ++i) {
    auto c = std::make_unique<Client>(h.port());
    ASSERT_TRUE(c->connected()) << i;
    if (i % 3 == 1) {  // garbage: a wrong "token" and more
      std::string junk(200, ' ');
      for (char& ch : junk) ch = static_cast<char>(random() & 0xff);
      c->send(junk);
    } else if (i % 3 == 2) {  // a token's start, then nothing
      c->send(kToken.substr(0, 20));
    }
    flood.push_back(std::move(c));
  }
  ASSERT_TRUE(eventually([&] { return h.stats().accepted == static_cast<uint64_t>(kFlood); }));
  ASSERT_TRUE(eventually([&] { return h.stats().pending == 0; }));
  ServerStats s = h.stats();
  EXPECT_GT(s.refused, 0u);
  EXPECT_GT(s.bad_token, 0u);
  EXPECT_EQ(s.authenticated, 0u);
  EXPECT_TRUE(h.messages().empty());
  auto [max_pending, max_buffered] = h.max_pending_and_buffered();
  EXPECT_LE(max_pending, limits.max_pending);
  // The bound: a connection that has not authenticated holds no more than its token's bytes, so the
  // flood costs at most max_pending * kTokenChars (1 KiB here); 16 KiB leaves room and is still far
  // below what 300 connections with a read buffer each would hold.
  EXPECT_LE(max_buffered, 16u * 1024);

  flood.clear();
  Client good(h.port());
  ASSERT_TRUE(good.send(kToken + core::wire::frame(hello(0, "after-flood"))));
  ASSERT_TRUE(eventually([&] { return h.messages().size() == 1; }));
  EXPECT_EQ(h.messages()[0].second.host, "after-flood");
  EXPECT_TRUE(good.read_frame().has_value());
}

TEST(CoordServer, CloseEndsEveryConnection) {
  Harness h(quick_limits());
  Client a(h.port()), b(h.port()), waiting(h.port());
  ASSERT_TRUE(a.send(kToken + core::wire::frame(hello(0, "a"))));
  ASSERT_TRUE(b.send(kToken + core::wire::frame(hello(1, "b"))));
  ASSERT_TRUE(eventually([&] { return h.messages().size() == 2; }));
  ASSERT_TRUE(eventually([&] { return h.stats().pending == 1; }));
  h.close();
  EXPECT_TRUE(a.closed_by_server());
  EXPECT_TRUE(b.closed_by_server());
  EXPECT_TRUE(waiting.closed_by_server());
  ServerStats s = h.stats();
  EXPECT_EQ(s.pending + s.authenticated, 0u);
  EXPECT_EQ(s.buffered_bytes, 0u);
  EXPECT_TRUE(h.closes().empty());  // the server's own close is not reported back to it
  Client late(h.port());
  EXPECT_FALSE(late.connected());
}

TEST(CoordServer, CannotListenNamesTheAddress) {
  asio::io_context io;
  CoordServer first(io, "127.0.0.1", 0, kToken, ServerLimits{}, {});
  std::string port = std::to_string(first.port());
  try {
    CoordServer second(io, "127.0.0.1", first.port(), kToken, ServerLimits{}, {});
    FAIL() << "listened twice on one port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + port), std::string::npos) << e.what();
    EXPECT_EQ(e.where(), "127.0.0.1:" + port);
    EXPECT_FALSE(e.hint().empty());
  }
  try {  // an address from TEST-NET-1, which no machine has
    CoordServer elsewhere(io, "192.0.2.1", 0, kToken, ServerLimits{}, {});
    FAIL() << "listened on an address this machine does not have";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "192.0.2.1:0");
    EXPECT_NE(e.hint().find("--coord-host"), std::string::npos);
  }
}

}  // namespace
}  // namespace strike::launcher
