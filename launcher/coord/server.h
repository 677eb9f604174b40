// The coordination server: accepts rank connections on one Boost.Asio event loop and authenticates them by the job token.
#pragma once
#include <boost/asio.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/wire.h"

namespace strike::launcher {

struct ServerLimits {
  size_t max_pending = 32;            // connections at once that have not yet presented the token; more are closed at accept
  size_t max_connections = 1024;      // authenticated connections at once
  double auth_timeout_seconds = 5.0;  // time to present the token before the connection is closed
  double ping_seconds = 1.0;          // interval of the pings sent to every authenticated connection
  uint32_t max_frame = core::wire::kMaxFrameBytes;  // larger frames close the connection
};

// What the server has seen, for logs and the memory-bound tests.
struct ServerStats {
  size_t pending = 0;            // connections waiting to authenticate now
  size_t authenticated = 0;      // authenticated connections now
  size_t buffered_bytes = 0;     // bytes held in read and write buffers now, all connections
  uint64_t accepted = 0;         // connections accepted in total
  uint64_t refused = 0;          // closed at accept: too many pending or too many connections
  uint64_t bad_token = 0;        // closed: wrong token, or none before the deadline
  uint64_t bad_frames = 0;       // closed: oversize frame; or messages dropped: unparsable payload
};

// Single-threaded: every handler runs on the io_context's thread, and so must every call.
// Unauthenticated or misbehaving peers are closed without disturbing anyone else.
class CoordServer {
 public:
  using ConnectionId = uint64_t;
  struct Handlers {
    std::function<void(ConnectionId, const core::wire::Message&)> on_message;  // authenticated, parsed
    std::function<void(ConnectionId, const std::string& why)> on_close;        // an authenticated connection ended
  };
  // Listens on `host` (an address or name; "0.0.0.0" for every interface) and `port` (0: any free port).
  // Throws strike::Error naming the address when it cannot listen.
  CoordServer(boost::asio::io_context& io, const std::string& host, uint16_t port, std::string token,
              ServerLimits limits, Handlers handlers);
  ~CoordServer();
  CoordServer(const CoordServer&) = delete;
  CoordServer& operator=(const CoordServer&) = delete;

  uint16_t port() const;
  // Stops accepting and closes every connection.
  void close();
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strike::launcher
