// The wire protocol: JSON payloads checked field by field, frame splitting, job tokens and addresses.
#include "core/wire.h"

// Only the standard library, nlohmann/json and core/error.h: bench/fuzz_wire.sh builds this file alone.
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace strike::core::wire {

namespace {

using Json = nlohmann::json;

// Messages are flat objects; unknown keys may nest a little for future use. Deeper input is rejected
// before nlohmann sees it, so no payload can cost more than one linear scan.
constexpr int kMaxNesting = 16;
// Reasons quote at most this much of the input (a `why` ends up in logs).
constexpr size_t kMaxQuoteBytes = 40;

constexpr MessageType kAllTypes[] = {MessageType::kHello,      MessageType::kHeartbeat, MessageType::kProgress,
                                     MessageType::kCheckpoint, MessageType::kError,     MessageType::kDone,
                                     MessageType::kPing};

bool has_position(MessageType type) {
  return type == MessageType::kHeartbeat || type == MessageType::kProgress || type == MessageType::kCheckpoint;
}

// Length of the valid UTF-8 sequence at s[i] (the rules nlohmann's parser enforces: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 if the bytes there are not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const unsigned c = at(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// `s` as valid UTF-8 (each bad byte becomes U+FFFD) of at most `limit` bytes, cut between characters.
// Replacing before cutting keeps the result within the limit the parser checks: a replacement grows one
// byte to three, which would push a string cut first past kMaxStringBytes.
std::string clean_string(std::string_view s, size_t limit) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(s.size(), limit));
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence(s, i);
    const size_t add = n ? n : 3;
    if (out.size() + add > limit) break;
    if (n) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out.append(kReplacement, 3);
      ++i;
    }
  }
  return out;
}

// JSON has no NaN or infinity; a diverged loss is still worth reporting, so they travel as null.
Json number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json to_json(const Message& m, size_t string_limit) {
  Json j = Json::object();
  j["type"] = type_name(m.type);
  const auto str = [&](const std::string& s) { return clean_string(s, string_limit); };
  if (m.type == MessageType::kHello) {
    j["rank"] = m.rank;
    j["world"] = m.world;
    j["host"] = str(m.host);
    j["pid"] = m.pid;
    j["device"] = str(m.device);
  }
  if (has_position(m.type)) {
    j["phase"] = str(m.phase);
    j["epoch"] = m.epoch;
    j["epochs"] = m.epochs;
    j["step"] = m.step;
    j["phase_step"] = m.phase_step;
    j["phase_steps"] = m.phase_steps;
    j["work"] = m.work;
  }
  if (m.type == MessageType::kProgress) {
    j["loss"] = number(m.loss);
    j["metric"] = number(m.metric);
    j["samples_per_sec"] = number(m.samples_per_sec);
    j["lr"] = number(m.lr);
  }
  if (m.type == MessageType::kCheckpoint) j["path"] = str(m.path);
  if (m.type == MessageType::kError) j["text"] = str(m.text);
  if (m.type == MessageType::kDone) j["code"] = m.code;
  return j;
}

std::string quote(std::string_view s) {
  return "\"" + clean_string(s, kMaxQuoteBytes) + (s.size() > kMaxQuoteBytes ? "...\"" : "\"");
}

// Brackets outside strings, deepest level; stops counting once past the limit.
bool nested_too_deep(std::string_view payload) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : payload) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if (c == ']' || c == '}') {
      --depth;  // unbalanced input is the parser's to reject
    }
  }
  return false;
}

// Field readers: false (with the reason in `why`) unless `j[key]` exists with the right JSON type and range.
class Fields {
 public:
  Fields(const Json& j, std::string& why) : j_(j), why_(why) {}

  bool integer(const char* key, int64_t& out, int64_t lo, int64_t hi) {
    const Json* v = find(key);
    if (!v) return false;
    if (!v->is_number_integer()) return fail(key, "is not an integer");
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(hi)) return fail(key, "is out of range");
      out = static_cast<int64_t>(u);
    } else {
      out = v->get<int64_t>();
    }
    if (out < lo || out > hi) return fail(key, "is out of range");
    return true;
  }

  bool counter(const char* key, int64_t& out) {
    return integer(key, out, 0, std::numeric_limits<int64_t>::max());
  }

  bool small(const char* key, int& out, int lo, int hi) {
    int64_t wide = 0;
    if (!integer(key, wide, lo, hi)) return false;
    out = static_cast<int>(wide);
    return true;
  }

  bool real(const char* key, double& out) {
    const Json* v = find(key);
    if (!v) return false;
    if (v->is_null()) {
      out = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    if (!v->is_number()) return fail(key, "is not a number");
    out = v->get<double>();
    if (!std::isfinite(out)) return fail(key, "is not finite");
    return true;
  }

  bool text(const char* key, std::string& out) {
    const Json* v = find(key);
    if (!v) return false;
    if (!v->is_string()) return fail(key, "is not a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > kMaxStringBytes) return fail(key, "is longer than " + std::to_string(kMaxStringBytes) + " bytes");
    out = s;
    return true;
  }

  bool fail(const std::string& key, const std::string& what) {
    why_ = "field \"" + key + "\" " + what;
    return false;
  }

 private:
  const Json* find(const char* key) {
    const auto it = j_.find(key);
    if (it == j_.end()) {
      fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }

  const Json& j_;
  std::string& why_;
};

std::optional<Message> from_json(const Json& j, std::string& why) {
  if (!j.is_object()) {
    why = "not a JSON object";
    return std::nullopt;
  }
  const auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) {
    why = "no \"type\" string";
    return std::nullopt;
  }
  const auto& name = type_it->get_ref<const std::string&>();
  Message m;
  bool known = false;
  for (const MessageType t : kAllTypes) {
    if (name == type_name(t)) {
      m.type = t;
      known = true;
    }
  }
  if (!known) {
    why = "unknown type " + quote(name);
    return std::nullopt;
  }

  Fields f(j, why);
  constexpr int kIntMax = std::numeric_limits<int>::max(), kIntMin = std::numeric_limits<int>::min();
  if (m.type == MessageType::kHello) {
    if (!f.small("rank", m.rank, 0, kIntMax) || !f.small("world", m.world, 1, kIntMax) ||
        !f.text("host", m.host) || !f.counter("pid", m.pid) || !f.text("device", m.device)) {
      return std::nullopt;
    }
    if (m.rank >= m.world) {
      f.fail("rank", "is not below world (" + std::to_string(m.world) + ")");
      return std::nullopt;
    }
  }
  if (has_position(m.type)) {
    if (!f.text("phase", m.phase) || !f.counter("epoch", m.epoch) || !f.counter("epochs", m.epochs) ||
        !f.counter("step", m.step) || !f.counter("phase_step", m.phase_step) ||
        !f.counter("phase_steps", m.phase_steps) || !f.counter("work", m.work)) {
      return std::nullopt;
    }
  }
  if (m.type == MessageType::kProgress) {
    if (!f.real("loss", m.loss) || !f.real("metric", m.metric) || !f.real("samples_per_sec", m.samples_per_sec) ||
        !f.real("lr", m.lr)) {
      return std::nullopt;
    }
  }
  if (m.type == MessageType::kCheckpoint && !f.text("path", m.path)) return std::nullopt;
  if (m.type == MessageType::kError && !f.text("text", m.text)) return std::nullopt;
  if (m.type == MessageType::kDone && !f.small("code", m.code, kIntMin, kIntMax)) return std::nullopt;
  return m;
}

uint32_t read_header(const std::string& buffer, size_t at) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(buffer[at + k])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// Fills `out` from the kernel; false if it cannot.
bool random_bytes(unsigned char* out, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = getrandom(out + got, size - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  if (got == size) return true;
  // Kernels before 3.17, or seccomp filters that forbid getrandom.
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  return urandom.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(size)) &&
         urandom.gcount() == static_cast<std::streamsize>(size);
}

}  // namespace

const char* type_name(MessageType type) {
  switch (type) {
    case MessageType::kHello: return "hello";
    case MessageType::kHeartbeat: return "heartbeat";
    case MessageType::kProgress: return "progress";
    case MessageType::kCheckpoint: return "checkpoint";
    case MessageType::kError: return "error";
    case MessageType::kDone: return "done";
    case MessageType::kPing: return "ping";
  }
  return "unknown";
}

std::string encode(const Message& message) {
  // Escapes can make a string's JSON six times its bytes (control characters), so two long strings
  // could overflow a frame; shorter cuts until it fits keep every encoded message parseable.
  for (size_t limit = kMaxStringBytes;; limit /= 2) {
    std::string out = to_json(message, limit).dump(-1, ' ', false, Json::error_handler_t::replace);
    if (out.size() <= kMaxFrameBytes || limit == 0) return out;
  }
}

std::string frame(const Message& message) {
  const std::string payload = encode(message);
  const auto size = static_cast<uint32_t>(payload.size());
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((size >> shift) & 0xFF));
  out += payload;
  return out;
}

std::optional<Message> parse(std::string_view payload, std::string* why) {
  std::string reason;
  std::optional<Message> result;
  try {
    if (payload.size() > kMaxFrameBytes) {
      reason = "payload of " + std::to_string(payload.size()) + " bytes is over " + std::to_string(kMaxFrameBytes);
    } else if (nested_too_deep(payload)) {
      reason = "nested deeper than " + std::to_string(kMaxNesting) + " levels";
    } else {
      const Json j = Json::parse(payload.begin(), payload.end(), nullptr, false);
      if (j.is_discarded()) reason = "not JSON";
      else result = from_json(j, reason);
    }
  } catch (const std::exception& e) {
    reason = std::string("unreadable: ") + e.what();
    result.reset();
  } catch (...) {
    reason = "unreadable";
    result.reset();
  }
  if (!result && why) {
    try {
      *why = reason;
    } catch (...) {
    }
  }
  return result;
}

bool FrameReader::feed(const char* data, size_t size) {
  if (broken_) return false;
  // Drop what next() has consumed, so the buffer holds only pending bytes.
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(data, size);
  // Check every header now buffered, so a bad one is reported by the feed that brought it. The frames
  // before it stay readable (a worker's last error message before garbage is still worth having).
  size_t at = 0;
  while (buffer_.size() - at >= kFrameHeaderBytes) {
    const uint32_t length = read_header(buffer_, at);
    if (length == 0 || length > max_frame_) {
      broken_ = true;
      buffer_.resize(at);
      return false;
    }
    if (buffer_.size() - at - kFrameHeaderBytes < length) break;
    at += kFrameHeaderBytes + length;
  }
  return true;
}

std::optional<std::string> FrameReader::next() {
  if (buffered() < kFrameHeaderBytes) return std::nullopt;
  const uint32_t length = read_header(buffer_, offset_);
  // feed() has checked every complete header; this guards a reader used some other way.
  if (length == 0 || length > max_frame_) {
    broken_ = true;
    buffer_.clear();
    offset_ = 0;
    return std::nullopt;
  }
  if (buffered() - kFrameHeaderBytes < length) return std::nullopt;
  std::string payload = buffer_.substr(offset_ + kFrameHeaderBytes, length);
  offset_ += kFrameHeaderBytes + length;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
    // One huge feed must not pin its memory for the connection's lifetime.
    if (buffer_.capacity() > 2 * (kFrameHeaderBytes + size_t{max_frame_})) buffer_.shrink_to_fit();
  }
  return payload;
}

std::string make_token() {
  unsigned char bytes[kTokenChars / 2];
  if (!random_bytes(bytes, sizeof bytes)) {
    throw Error("cannot read random bytes for the job token: " + std::string(std::strerror(errno)),
                "getrandom(2) and /dev/urandom", "check that the kernel's random source is available");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(kTokenChars);
  for (const unsigned char b : bytes) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 0xF]);
  }
  return token;
}

bool same_token(std::string_view a, std::string_view b) {
  // Every byte is compared whatever the content: the running time reveals only the lengths.
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned diff = a.size() != b.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
    const unsigned y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

Address parse_address(const std::string& address) {
  const auto bad = [&](const std::string& what) {
    return UsageError("bad address \"" + address + "\": " + what, "",
                      "expected host:port, e.g. node17:29500, with a port from 1 to 65535");
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) throw bad("no ':' before the port");
  Address out;
  out.host = address.substr(0, colon);
  // An IPv6 literal is written in brackets so that its own colons are not taken for the port's.
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) throw bad("no host");
  const std::string port = address.substr(colon + 1);
  if (port.empty()) throw bad("no port");
  unsigned long value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') throw bad("the port is not a decimal number");
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) throw bad("the port is over 65535");
  }
  if (value == 0) throw bad("port 0");
  out.port = static_cast<uint16_t>(value);
  return out;
}

}  // namespace strike::core::wire
