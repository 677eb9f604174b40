// The coordination server: accepts rank connections on one Boost.Asio event loop and authenticates them by the job token.
#include "launcher/coord/server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <map>
#include <vector>

#include "core/error.h"

namespace strike::launcher {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using ConnectionId = CoordServer::ConnectionId;

// Messages are a few hundred bytes; a small chunk keeps an idle connection cheap.
constexpr size_t kReadChunkBytes = 4096;
// Pings are ~20 bytes a second: a peer with this much unsent has not read for an hour or more.
constexpr size_t kMaxUnsentBytes = 64 * 1024;
// After a failed accept (out of descriptors, say) retrying at once would spin on the same failure.
constexpr std::chrono::milliseconds kAcceptRetry{50};

asio::steady_timer::duration to_duration(double seconds) {
  return std::chrono::duration_cast<asio::steady_timer::duration>(std::chrono::duration<double>(seconds));
}

// One connection, from accept to close.
struct Session {
  enum class State { kPending, kAuthenticated, kClosed };

  Session(ConnectionId connection, tcp::socket accepted, std::string from, uint32_t max_frame)
      : id(connection), socket(std::move(accepted)), deadline(socket.get_executor()), peer(std::move(from)),
        reader(max_frame) {}

  // Bytes this connection holds in its buffers, for ServerStats::buffered_bytes.
  size_t held() const {
    if (state != State::kAuthenticated) return token.size();
    return chunk.size() + reader.buffered() + sending.size() + outbox.size();
  }

  const ConnectionId id;
  tcp::socket socket;
  asio::steady_timer deadline;  // for the token
  const std::string peer;       // "address:port", for logs
  State state = State::kPending;
  std::array<char, core::wire::kTokenChars> token{};
  std::vector<char> chunk;      // read buffer, allocated only once the peer has authenticated
  core::wire::FrameReader reader;
  std::string sending;          // the bytes of the write in flight
  std::string outbox;           // bytes queued behind it
};

using SessionPtr = std::shared_ptr<Session>;

// Shared so that handlers still queued when the server goes away can tell (their weak_ptr expires)
// and leave the sessions they hold to die with them.
class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(asio::io_context& io, std::string token, ServerLimits limits, CoordServer::Handlers handlers)
      : io_(io), acceptor_(io), ping_timer_(io), retry_timer_(io), token_(std::move(token)), limits_(limits),
        handlers_(std::move(handlers)) {
    core::wire::Message ping;
    ping.type = core::wire::MessageType::kPing;
    ping_frame_ = core::wire::frame(ping);
  }

  void listen(const std::string& host, uint16_t port) {
    std::string where = host + ":" + std::to_string(port);
    std::string name = host.empty() ? "0.0.0.0" : host;
    tcp::resolver resolver(io_);
    error_code ec;
    auto endpoints = resolver.resolve(tcp::v4(), name, std::to_string(port), tcp::resolver::numeric_service, ec);
    if (ec || endpoints.empty()) {
      throw Error("cannot resolve the coordination host '" + host + "': " + (ec ? ec.message() : "no IPv4 address"),
                  where, "pass --coord-host with a name or IPv4 address of this machine");
    }
    for (const auto& entry : endpoints) {
      acceptor_.close(ec);
      acceptor_.open(entry.endpoint().protocol(), ec);
      if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) acceptor_.bind(entry.endpoint(), ec);
      if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
      if (!ec) {
        port_ = acceptor_.local_endpoint(ec).port();
        if (!ec) return;
      }
    }
    error_code ignored;
    acceptor_.close(ignored);
    throw Error("cannot listen for ranks on " + where + ": " + ec.message(), where,
                "pass --coord-host with an address of this machine, and --coord-port 0 if the port is taken");
  }

  void start() {
    accept();
    arm_ping();
  }

  uint16_t port() const { return port_; }

  // Connections the server ends itself do not reach on_close: whoever closes the server knows.
  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    ping_timer_.cancel();
    retry_timer_.cancel();
    std::map<ConnectionId, SessionPtr> all;
    all.swap(sessions_);
    for (auto& entry : all) shut(*entry.second);
    pending_ = 0;
    authenticated_ = 0;
  }

  ServerStats stats() const {
    ServerStats s = counts_;
    s.pending = pending_;
    s.authenticated = authenticated_;
    for (const auto& entry : sessions_) s.buffered_bytes += entry.second->held();
    return s;
  }

 private:
  void accept() {
    acceptor_.async_accept([weak = weak_from_this()](error_code ec, tcp::socket socket) {
      auto self = weak.lock();
      if (!self || self->closed_) return;
      if (ec) {
        spdlog::debug("coord: accept failed: {}; retrying", ec.message());
        self->retry_timer_.expires_after(kAcceptRetry);
        self->retry_timer_.async_wait([weak](error_code wait_ec) {
          auto again = weak.lock();
          if (again && !wait_ec && !again->closed_) again->accept();
        });
        return;
      }
      self->admit(std::move(socket));
      self->accept();
    });
  }

  void admit(tcp::socket socket) {
    ++counts_.accepted;
    error_code ec;
    auto remote = socket.remote_endpoint(ec);
    std::string peer = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    if (pending_ >= limits_.max_pending || authenticated_ >= limits_.max_connections) {
      ++counts_.refused;
      spdlog::debug("coord: refused {}: {} waiting for their token, {} authenticated", peer, pending_, authenticated_);
      socket.close(ec);
      return;
    }
    socket.set_option(asio::socket_base::keep_alive(true), ec);
    socket.set_option(tcp::no_delay(true), ec);
    auto session = std::make_shared<Session>(next_id_++, std::move(socket), std::move(peer), limits_.max_frame);
    sessions_.emplace(session->id, session);
    ++pending_;
    authenticate(session);
  }

  void authenticate(const SessionPtr& session) {
    std::weak_ptr<ServerCore> weak = weak_from_this();
    session->deadline.expires_after(to_duration(limits_.auth_timeout_seconds));
    session->deadline.async_wait([weak, session](error_code ec) {
      auto self = weak.lock();
      if (!self || ec || session->state != Session::State::kPending) return;
      ++self->counts_.bad_token;
      self->end(session, "no token before the deadline");
    });
    asio::async_read(session->socket, asio::buffer(session->token), [weak, session](error_code ec, size_t) {
      auto self = weak.lock();
      if (!self || session->state != Session::State::kPending) return;
      session->deadline.cancel();
      if (ec) {
        self->end(session, "hung up before its token: " + ec.message());
        return;
      }
      std::string_view presented(session->token.data(), session->token.size());
      if (!core::wire::same_token(presented, self->token_)) {
        ++self->counts_.bad_token;
        self->end(session, "wrong token");
        return;
      }
      if (self->authenticated_ >= self->limits_.max_connections) {
        ++self->counts_.refused;
        self->end(session, "too many connections");
        return;
      }
      --self->pending_;
      ++self->authenticated_;
      session->state = Session::State::kAuthenticated;
      session->chunk.resize(kReadChunkBytes);
      spdlog::debug("coord: connection {} from {} authenticated", session->id, session->peer);
      self->read(session);
    });
  }

  void read(const SessionPtr& session) {
    session->socket.async_read_some(
        asio::buffer(session->chunk), [weak = weak_from_this(), session](error_code ec, size_t size) {
          auto self = weak.lock();
          if (!self || session->state != Session::State::kAuthenticated) return;
          self->on_read(session, ec, size);
        });
  }

  void on_read(const SessionPtr& session, error_code ec, size_t size) {
    if (ec) {
      end(session, ec == asio::error::eof ? "the rank closed the connection" : "read failed: " + ec.message());
      return;
    }
    // Frames that arrived whole before a bad header are still delivered: a rank's last error
    // message is worth having even if garbage follows it.
    bool intact = session->reader.feed(session->chunk.data(), size);
    while (auto payload = session->reader.next()) {
      std::string why;
      auto message = core::wire::parse(*payload, &why);
      if (!message) {
        // One bad message is a worker bug, not a reason to lose the rank's later news.
        ++counts_.bad_frames;
        spdlog::debug("coord: connection {}: dropped a message: {}", session->id, why);
        continue;
      }
      if (handlers_.on_message) handlers_.on_message(session->id, *message);
      // The handler may have closed the server or ended this connection.
      if (closed_ || session->state != Session::State::kAuthenticated) return;
    }
    if (!intact) {
      ++counts_.bad_frames;
      end(session, "a frame over " + std::to_string(limits_.max_frame) + " bytes, or an empty one");
      return;
    }
    read(session);
  }

  void arm_ping() {
    if (closed_ || !(limits_.ping_seconds > 0)) return;
    ping_timer_.expires_after(to_duration(limits_.ping_seconds));
    ping_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (!self || ec || self->closed_) return;
      std::vector<SessionPtr> live;
      for (const auto& entry : self->sessions_) {
        if (entry.second->state == Session::State::kAuthenticated) live.push_back(entry.second);
      }
      for (const SessionPtr& session : live) self->send(session, self->ping_frame_);
      self->arm_ping();
    });
  }

  void send(const SessionPtr& session, const std::string& bytes) {
    if (session->state != Session::State::kAuthenticated) return;
    if (session->sending.size() + session->outbox.size() + bytes.size() > kMaxUnsentBytes) {
      end(session, "the rank does not read what the launcher sends (" + std::to_string(kMaxUnsentBytes) +
                       " bytes unsent)");
      return;
    }
    session->outbox += bytes;
    if (session->sending.empty()) write(session);
  }

  void write(const SessionPtr& session) {
    session->sending.swap(session->outbox);
    asio::async_write(session->socket, asio::buffer(session->sending),
                      [weak = weak_from_this(), session](error_code ec, size_t) {
                        auto self = weak.lock();
                        if (!self || session->state != Session::State::kAuthenticated) return;
                        session->sending.clear();
                        if (ec) {
                          self->end(session, "write failed: " + ec.message());
                          return;
                        }
                        if (!session->outbox.empty()) self->write(session);
                      });
  }

  // Ends one connection; taken by value because the map's copy is erased here.
  void end(SessionPtr session, const std::string& why) {
    if (session->state == Session::State::kClosed) return;
    bool was_authenticated = session->state == Session::State::kAuthenticated;
    if (was_authenticated) {
      --authenticated_;
    } else {
      --pending_;
    }
    spdlog::debug("coord: connection {} from {} closed: {}", session->id, session->peer, why);
    shut(*session);
    sessions_.erase(session->id);
    if (was_authenticated && handlers_.on_close) handlers_.on_close(session->id, why);
  }

  // Closing the socket aborts its pending operations; their handlers see kClosed and stop. The
  // buffers they were given stay alive with the session until the last handler lets go of it.
  static void shut(Session& session) {
    session.state = Session::State::kClosed;
    error_code ignored;
    session.socket.close(ignored);
    session.deadline.cancel();
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  asio::steady_timer ping_timer_;
  asio::steady_timer retry_timer_;
  std::string token_;
  ServerLimits limits_;
  CoordServer::Handlers handlers_;
  std::string ping_frame_;
  std::map<ConnectionId, SessionPtr> sessions_;
  ConnectionId next_id_ = 1;
  size_t pending_ = 0;
  size_t authenticated_ = 0;
  ServerStats counts_;  // the running totals; live counts are filled in by stats()
  uint16_t port_ = 0;
  bool closed_ = false;
};

}  // namespace

struct CoordServer::Impl {
  std::shared_ptr<ServerCore> core;
};

CoordServer::CoordServer(asio::io_context& io, const std::string& host, uint16_t port, std::string token,
                         ServerLimits limits, Handlers handlers)
    : impl_(std::make_unique<Impl>()) {
  impl_->core = std::make_shared<ServerCore>(io, std::move(token), limits, std::move(handlers));
  impl_->core->listen(host, port);
  impl_->core->start();
}

CoordServer::~CoordServer() {
  if (impl_ && impl_->core) impl_->core->close();
}

uint16_t CoordServer::port() const { return impl_->core->port(); }

void CoordServer::close() { impl_->core->close(); }

ServerStats CoordServer::stats() const { return impl_->core->stats(); }

}  // namespace strike::launcher
