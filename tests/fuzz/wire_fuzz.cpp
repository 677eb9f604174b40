// libFuzzer target for core/wire.cpp (clang only, not in the CMake build): bench/fuzz_wire.sh builds and runs it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/wire.h"

namespace {

using namespace strike::core::wire;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "wire_fuzz: %s: %s\n", what, detail.substr(0, 2000).c_str());
  std::abort();
}

// Whatever parse() accepts must survive being sent on: encode it, parse it again, encode the same bytes.
void check_round_trip(const Message& message) {
  const std::string payload = encode(message);
  if (payload.size() > kMaxFrameBytes) fail("encoded payload over kMaxFrameBytes", payload);
  std::string why;
  const std::optional<Message> back = parse(payload, &why);
  if (!back) fail(("encoded message does not parse (" + why + ")").c_str(), payload);
  if (encode(*back) != payload) fail("re-encoding differs", payload + "\nvs\n" + encode(*back));
  const std::string whole = frame(message);
  FrameReader reader;
  if (!reader.feed(whole.data(), whole.size())) fail("reader refuses an encoded frame", payload);
  const std::optional<std::string> got = reader.next();
  if (!got || *got != payload || reader.next() || reader.buffered() != 0) fail("frame does not split back", payload);
}

void check_payload(std::string_view payload) {
  std::string why;
  const std::optional<Message> message = parse(payload, &why);
  if (message) check_round_trip(*message);
  else if (why.empty()) fail("rejected without a reason", std::string(payload));
}

struct Split {
  std::vector<std::string> payloads;
  bool broken = false;
};

// Feeds `input` in pieces of `chunk` bytes, draining after each feed as callers do.
Split split(std::string_view input, size_t chunk, uint32_t max_frame) {
  Split out;
  FrameReader reader(max_frame);
  for (size_t at = 0; at < input.size() && !out.broken; at += chunk) {
    const size_t n = std::min(chunk, input.size() - at);
    out.broken = !reader.feed(input.data() + at, n);
    if (reader.buffered() > kFrameHeaderBytes + max_frame + n) fail("reader holds too much", std::to_string(reader.buffered()));
    while (std::optional<std::string> payload = reader.next()) {
      if (payload->empty() || payload->size() > max_frame) fail("payload size out of bounds", *payload);
      out.payloads.push_back(std::move(*payload));
    }
    if (reader.buffered() > kFrameHeaderBytes + max_frame) fail("drained reader holds too much", std::to_string(reader.buffered()));
  }
  if (out.broken && reader.feed("x", 1)) fail("broken reader accepts bytes again", "");
  return out;
}

Message sample(MessageType type) {
  Message m;
  m.type = type;
  m.rank = 1;
  m.world = 2;
  m.host = "node17";
  m.pid = 4242;
  m.device = "cpu";
  m.phase = "train";
  m.epoch = 1;
  m.epochs = 3;
  m.step = 100;
  m.phase_step = 20;
  m.phase_steps = 469;
  m.work = 120;
  m.loss = 0.5;
  m.metric = 0.8125;
  m.samples_per_sec = 2048.25;
  m.lr = 1e-3;
  m.path = "/runs/a/checkpoints/step_100.h5";
  m.text = "shard 3: CRC mismatch";
  m.code = 1;
  return m;
}

// `wire_fuzz --emit-seeds DIR`: one frame and one bare payload per message type, and a stream of all.
void emit_seeds(const std::string& dir) {
  const MessageType types[] = {MessageType::kHello, MessageType::kHeartbeat, MessageType::kProgress,
                               MessageType::kCheckpoint, MessageType::kError, MessageType::kDone,
                               MessageType::kPing};
  std::string stream;
  const auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream file(dir + "/" + name, std::ios::binary);
    file << bytes;
    if (!file) fail("cannot write seed", dir + "/" + name);
  };
  for (const MessageType type : types) {
    write(std::string("frame_") + type_name(type), frame(sample(type)));
    write(std::string("payload_") + type_name(type), encode(sample(type)));
    stream += frame(sample(type));
  }
  write("stream_all", stream);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  if (*argc == 3 && std::strcmp((*argv)[1], "--emit-seeds") == 0) {
    emit_seeds((*argv)[2]);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_payload(input);

  // The same stream in pieces of every kind must give the same frames and break at the same point.
  const size_t first = size ? data[0] : 0, last = size ? data[size - 1] : 0;
  const size_t chunks[] = {size ? size : 1, 1 + first % 7, 1 + (first * 31 + last) % 251};
  const Split whole = split(input, chunks[0], kMaxFrameBytes);
  for (const std::string& payload : whole.payloads) check_payload(payload);
  for (size_t i = 1; i < sizeof chunks / sizeof chunks[0]; ++i) {
    const Split pieces = split(input, chunks[i], kMaxFrameBytes);
    if (pieces.payloads != whole.payloads || pieces.broken != whole.broken) {
      fail("chunking changes the frames", "chunk " + std::to_string(chunks[i]));
    }
  }
  // A small limit, so that oversize headers are common.
  split(input, 1 + last % 13, static_cast<uint32_t>(1 + first % 64));
  return 0;
}
