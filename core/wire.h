// The worker <-> launcher wire protocol: a token preamble, then length-prefixed JSON frames, parsed without trust.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strike::core::wire {

// A connection starts with exactly kTokenChars bytes: the job's token. Nothing else is read from a
// connection before they match (compared in constant time).
constexpr size_t kTokenChars = 64;  // 32 random bytes, hex
// Then frames: a 4-byte big-endian payload length, then that many bytes of UTF-8 JSON (one object).
constexpr size_t kFrameHeaderBytes = 4;
// A larger frame is a bug or an attack: the connection is dropped. Messages are a few hundred bytes.
constexpr uint32_t kMaxFrameBytes = 64 * 1024;
// Strings in messages (hosts, paths, error texts) are cut to this many bytes when encoded.
constexpr size_t kMaxStringBytes = 8 * 1024;

enum class MessageType {
  kHello,       // worker -> launcher, first frame: rank, world, host, pid, device
  kHeartbeat,   // worker -> launcher, about every second: position (epoch, step, work)
  kProgress,    // worker -> launcher: position plus loss, metric, samples/s, learning rate
  kCheckpoint,  // worker (rank 0) -> launcher: a complete checkpoint at `path`, position
  kError,       // worker -> launcher: the error that is ending this rank (`text`)
  kDone,        // worker -> launcher, last frame: the rank's exit `code`
  kPing,        // launcher -> worker, about every second: the launcher is alive
};

// One message. Which fields carry meaning depends on `type` (see MessageType); the rest keep
// their defaults and are not encoded.
struct Message {
  MessageType type = MessageType::kHeartbeat;
  // hello
  int rank = -1;
  int world = 0;
  std::string host;
  int64_t pid = 0;
  std::string device;
  // position: heartbeat, progress, checkpoint
  std::string phase;       // "train", "val", "test" (empty: not started)
  int64_t epoch = 0;       // 1-based epoch being run
  int64_t epochs = 0;      // epochs in the run
  int64_t step = 0;        // optimizer steps completed in the run
  int64_t phase_step = 0;  // batches done in the current phase
  int64_t phase_steps = 0; // batches in the current phase
  int64_t work = 0;        // batches processed so far, all phases: grows while the rank makes progress
  // progress
  double loss = 0;
  double metric = 0;           // top-1 accuracy where the task has one
  double samples_per_sec = 0;  // this rank's training throughput
  double lr = 0;
  // checkpoint, error, done
  std::string path;
  std::string text;
  int code = 0;
};

// Name of a message type as used on the wire and in events.jsonl ("hello", "heartbeat", ...).
const char* type_name(MessageType type);

// The JSON payload of `message` (strings cut to kMaxStringBytes).
std::string encode(const Message& message);
// A whole frame: header + encode(message).
std::string frame(const Message& message);

// Parses one payload. Anything that is not a JSON object with a known "type" and fields of the right
// JSON types and ranges gives nullopt and, if `why` is given, the reason. Never throws, never
// trusts sizes or nesting in the input.
std::optional<Message> parse(std::string_view payload, std::string* why = nullptr);

// Splits a byte stream into frame payloads. Callers drain next() after every feed(), so it holds at
// most one incomplete frame (kFrameHeaderBytes + max_frame) plus the bytes of the last feed.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_frame = kMaxFrameBytes) : max_frame_(max_frame) {}
  // Appends bytes. Returns false once a header announces a frame over the limit (or an empty
  // frame): the stream is unusable and the connection must be dropped.
  bool feed(const char* data, size_t size);
  // The next complete payload, if one is buffered.
  std::optional<std::string> next();
  // Bytes held, for memory limits.
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  uint32_t max_frame_;
  std::string buffer_;
  size_t offset_ = 0;
  bool broken_ = false;
};

// A fresh job token: kTokenChars hex characters from the kernel's random source.
std::string make_token();
// Equal tokens, in time that does not depend on where they differ.
bool same_token(std::string_view a, std::string_view b);

// "host:port" -> (host, port); throws strike::UsageError naming `address` when malformed.
struct Address {
  std::string host;
  uint16_t port = 0;
};
Address parse_address(const std::string& address);

}  // namespace strike::core::wire
