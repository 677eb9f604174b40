// Wire protocol: round trips, hostile payloads, frame splitting, tokens and addresses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/wire.h"

namespace strike::core::wire {
namespace {

Message hello() {
  Message m;
  m.type = MessageType::kHello;
  m.rank = 3;
  m.world = 8;
  m.host = "node17";
  m.pid = 4242;
  m.device = "cuda:3";
  return m;
}

Message positioned(MessageType type) {
  Message m;
  m.type = type;
  m.phase = "train";
  m.epoch = 2;
  m.epochs = 10;
  m.step = 1234;
  m.phase_step = 56;
  m.phase_steps = 469;
  m.work = 1290;
  return m;
}

Message progress() {
  Message m = positioned(MessageType::kProgress);
  m.loss = 0.4321;
  m.metric = 0.875;
  m.samples_per_sec = 2160.5;
  m.lr = 1e-3;
  return m;
}

Message with_text(MessageType type, const std::string& text) {
  Message m;
  m.type = type;
  (type == MessageType::kCheckpoint ? m.path : m.text) = text;
  return m;
}

Message done(int code) {
  Message m;
  m.type = MessageType::kDone;
  m.code = code;
  return m;
}

Message ping() {
  Message m;
  m.type = MessageType::kPing;
  return m;
}

// Parses and fails the test (with the reason) when that does not work.
Message parsed(const std::string& payload) {
  std::string why;
  std::optional<Message> m = parse(payload, &why);
  EXPECT_TRUE(m) << why << " in " << payload.substr(0, 200);
  return m ? *m : Message{};
}

void expect_same(const Message& a, const Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.rank, b.rank);
  EXPECT_EQ(a.world, b.world);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.phase_step, b.phase_step);
  EXPECT_EQ(a.phase_steps, b.phase_steps);
  EXPECT_EQ(a.work, b.work);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.metric, b.metric);
  EXPECT_EQ(a.samples_per_sec, b.samples_per_sec);
  EXPECT_EQ(a.lr, b.lr);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.code, b.code);
}

// parse() that must fail, without throwing, and say why.
void expect_rejected(const std::string& payload, const std::string& reason_part = "") {
  std::string why;
  std::optional<Message> m;
  EXPECT_NO_THROW(m = parse(payload, &why)) << payload.substr(0, 200);
  EXPECT_FALSE(m) << "accepted: " << payload.substr(0, 200);
  EXPECT_FALSE(why.empty()) << payload.substr(0, 200);
  if (!reason_part.empty()) EXPECT_NE(why.find(reason_part), std::string::npos) << why;
}

std::string header(uint32_t size) {
  return {static_cast<char>(size >> 24), static_cast<char>(size >> 16), static_cast<char>(size >> 8),
          static_cast<char>(size)};
}

TEST(Wire, TypeNames) {
  EXPECT_STREQ(type_name(MessageType::kHello), "hello");
  EXPECT_STREQ(type_name(MessageType::kHeartbeat), "heartbeat");
  EXPECT_STREQ(type_name(MessageType::kProgress), "progress");
  EXPECT_STREQ(type_name(MessageType::kCheckpoint), "checkpoint");
  EXPECT_STREQ(type_name(MessageType::kError), "error");
  EXPECT_STREQ(type_name(MessageType::kDone), "done");
  EXPECT_STREQ(type_name(MessageType::kPing), "ping");
}

TEST(Wire, RoundTripEveryType) {
  const std::vector<Message> messages = {
      hello(),
      positioned(MessageType::kHeartbeat),
      progress(),
      [] {
        Message m = positioned(MessageType::kCheckpoint);
        m.path = "/runs/a/checkpoints/step_1234.h5";
        return m;
      }(),
      with_text(MessageType::kError, "shard 3: CRC mismatch \"quoted\"\n\tline two, \xC3\xA9t\xC3\xA9"),
      done(0),
      done(-9),
      ping(),
  };
  for (const Message& m : messages) {
    SCOPED_TRACE(type_name(m.type));
    const std::string payload = encode(m);
    const Message back = parsed(payload);
    expect_same(back, m);
    EXPECT_EQ(encode(back), payload);
    const std::string f = frame(m);
    ASSERT_EQ(f.size(), kFrameHeaderBytes + payload.size());
    EXPECT_EQ(f.substr(0, 4), header(static_cast<uint32_t>(payload.size())));
    EXPECT_EQ(f.substr(4), payload);
  }
}

TEST(Wire, EncodesOnlyTheFieldsOfItsType) {
  Message m = ping();
  m.host = "h";
  m.loss = 1;
  m.text = "t";
  m.code = 7;
  EXPECT_EQ(encode(m), R"({"type":"ping"})");
  Message h = hello();
  h.text = "not for hello";
  h.epoch = 5;
  const std::string payload = encode(h);
  EXPECT_EQ(payload.find("text"), std::string::npos) << payload;
  EXPECT_EQ(payload.find("epoch"), std::string::npos) << payload;
  EXPECT_EQ(parsed(payload).epoch, 0);
  const std::string beat = encode(positioned(MessageType::kHeartbeat));
  EXPECT_EQ(beat.find("loss"), std::string::npos) << beat;
  EXPECT_NE(beat.find("\"work\":1290"), std::string::npos) << beat;
}

TEST(Wire, NonFiniteNumbersTravelAsNull) {
  Message m = progress();
  m.loss = std::nan("");
  m.lr = -INFINITY;
  const std::string payload = encode(m);
  EXPECT_NE(payload.find("\"loss\":null"), std::string::npos) << payload;
  const Message back = parsed(payload);
  EXPECT_TRUE(std::isnan(back.loss));
  EXPECT_TRUE(std::isnan(back.lr));
  EXPECT_EQ(back.metric, m.metric);
  EXPECT_EQ(encode(back), payload);
}

TEST(Wire, AcceptsIntegersForRealsAndIgnoresUnknownKeys) {
  const Message m = parsed(
      R"({"type":"progress","phase":"val","epoch":1,"epochs":1,"step":0,"phase_step":0,"phase_steps":0,)"
      R"("work":0,"loss":2,"metric":0,"samples_per_sec":1e3,"lr":-0.0,"extra":{"a":[1,2,{"b":null}]},"z":1})");
  EXPECT_EQ(m.type, MessageType::kProgress);
  EXPECT_EQ(m.loss, 2.0);
  EXPECT_EQ(m.samples_per_sec, 1000.0);
  EXPECT_EQ(m.phase, "val");
  // Brackets inside strings are not nesting.
  EXPECT_EQ(parsed(R"({"type":"error","text":")" + std::string(1000, '[') + R"("})").text, std::string(1000, '['));
  EXPECT_EQ(parsed(R"({"type":"done","code":-2147483648})").code, INT32_MIN);
  EXPECT_EQ(parsed(R"({"type":"heartbeat","phase":"","epoch":9223372036854775807,"epochs":0,"step":0,)"
                   R"("phase_step":0,"phase_steps":0,"work":0})")
                .epoch,
            INT64_MAX);
}

TEST(Wire, CutsLongAndInvalidStrings) {
  // Cut to the limit...
  Message m = parsed(encode(with_text(MessageType::kError, std::string(kMaxStringBytes + 100, 'x'))));
  EXPECT_EQ(m.text, std::string(kMaxStringBytes, 'x'));
  // ...between characters: "é" is two bytes, so an odd limit can't be filled.
  std::string accents;
  for (size_t i = 0; i < kMaxStringBytes; ++i) accents += "\xC3\xA9";
  m = parsed(encode(with_text(MessageType::kCheckpoint, std::string("a") + accents)));
  EXPECT_EQ(m.path.size(), kMaxStringBytes - 1);
  EXPECT_EQ(m.path.substr(m.path.size() - 2), "\xC3\xA9");
  // Invalid UTF-8 (a stray continuation byte, a truncated sequence, a surrogate) becomes U+FFFD.
  std::string why;
  Message bad = with_text(MessageType::kError, "a\x80" "b\xE2\x82" "c\xED\xA0\x80");
  std::string payload;
  ASSERT_NO_THROW(payload = encode(bad));
  m = parsed(payload);
  EXPECT_EQ(m.text.substr(0, 5), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(m.text.find('\x80'), std::string::npos);
  // All replacements: still within the limit the parser checks.
  m = parsed(encode(with_text(MessageType::kError, std::string(kMaxStringBytes, '\xFF'))));
  EXPECT_LE(m.text.size(), kMaxStringBytes);
  EXPECT_EQ(m.text.size() % 3, 0u);
}

TEST(Wire, EscapeHeavyStringsStillFitOneFrame) {
  // Control characters are six bytes each in JSON: two full strings would make a 96 KiB payload.
  Message m = hello();
  m.host = std::string(kMaxStringBytes, '\x01');
  m.device = std::string(kMaxStringBytes, '\x02');
  const std::string payload = encode(m);
  EXPECT_LE(payload.size(), kMaxFrameBytes);
  const Message back = parsed(payload);
  EXPECT_FALSE(back.host.empty());
  EXPECT_EQ(back.host.find_first_not_of('\x01'), std::string::npos);
  EXPECT_EQ(encode(back), payload);
}

TEST(Wire, RejectsMalformedPayloads) {
  expect_rejected("", "not JSON");
  expect_rejected("{", "not JSON");
  expect_rejected("{\"type\":\"ping\"} trailing", "not JSON");
  expect_rejected(R"({"type":"ping",})", "not JSON");
  expect_rejected("{\"type\":\"error\",\"text\":\"\xFF\"}", "not JSON");  // invalid UTF-8
  expect_rejected(R"({"type":"error","text":"\ud800"})", "not JSON");   // lone surrogate
  expect_rejected(R"({"type":"progress","loss":NaN})", "not JSON");
  expect_rejected(R"(["type","ping"])", "not a JSON object");
  expect_rejected(R"("ping")", "not a JSON object");
  expect_rejected("null", "not a JSON object");
  expect_rejected("{}", "type");
  expect_rejected(R"({"type":7})", "type");
  expect_rejected(R"({"type":"pong"})", "unknown type");
  expect_rejected(R"({"type":"Ping"})", "unknown type");
  expect_rejected(R"({"type":")" + std::string(30000, 'p') + R"("})", "unknown type");
  std::string why;
  parse(R"({"type":")" + std::string(50000, 'p') + R"("})", &why);
  EXPECT_LT(why.size(), 200u) << "a reason quotes only a little of the input";
}

TEST(Wire, RejectsWrongFieldTypesAndRanges) {
  const std::string hello_rest = R"("host":"h","pid":1,"device":"cpu")";
  const auto hello_with = [&](const std::string& rank, const std::string& world) {
    return R"({"type":"hello","rank":)" + rank + R"(,"world":)" + world + "," + hello_rest + "}";
  };
  EXPECT_EQ(parsed(hello_with("0", "1")).world, 1);
  expect_rejected(hello_with("\"0\"", "1"), "rank");
  expect_rejected(hello_with("0.0", "1"), "rank");
  expect_rejected(hello_with("true", "1"), "rank");
  expect_rejected(hello_with("null", "1"), "rank");
  expect_rejected(hello_with("-1", "4"), "rank");
  expect_rejected(hello_with("4", "4"), "rank");
  expect_rejected(hello_with("5", "4"), "rank");
  expect_rejected(hello_with("0", "0"), "world");
  expect_rejected(hello_with("0", "-3"), "world");
  expect_rejected(hello_with("0", "2147483648"), "world");
  expect_rejected(hello_with("0", "18446744073709551616"), "world");  // parsed as a double
  expect_rejected(R"({"type":"hello","rank":0,"world":1,"pid":1,"device":"cpu"})", "host");
  expect_rejected(R"({"type":"hello","rank":0,"world":1,"host":["h"],"pid":1,"device":"cpu"})", "host");
  expect_rejected(R"({"type":"hello","rank":0,"world":1,"host":"h","pid":-5,"device":"cpu"})", "pid");

  const auto beat_with = [](const std::string& key, const std::string& value) {
    std::string out = R"({"type":"heartbeat")";
    for (const char* k : {"phase", "epoch", "epochs", "step", "phase_step", "phase_steps", "work"}) {
      if (k == key && value.empty()) continue;  // left out
      out += ",\"" + std::string(k) + "\":" + (k == key ? value : (k == std::string("phase") ? "\"train\"" : "1"));
    }
    return out + "}";
  };
  EXPECT_EQ(parsed(beat_with("work", "0")).work, 0);
  for (const char* key : {"epoch", "epochs", "step", "phase_step", "phase_steps", "work"}) {
    SCOPED_TRACE(key);
    expect_rejected(beat_with(key, "-1"), key);
    expect_rejected(beat_with(key, "9223372036854775808"), key);
    expect_rejected(beat_with(key, "1.5"), key);
    expect_rejected(beat_with(key, "\"1\""), key);
    expect_rejected(beat_with(key, ""), key);
  }
  expect_rejected(beat_with("phase", "1"), "phase");

  const auto progress_with = [](const std::string& loss) {
    return R"({"type":"progress","phase":"train","epoch":1,"epochs":1,"step":1,"phase_step":1,"phase_steps":1,)"
           R"("work":1,"loss":)" + loss + R"(,"metric":0,"samples_per_sec":0,"lr":0})";
  };
  EXPECT_EQ(parsed(progress_with("1e308")).loss, 1e308);
  expect_rejected(progress_with("1e999"));  // nlohmann refuses the overflow itself
  expect_rejected(progress_with("-1e999"));
  expect_rejected(progress_with("\"nan\""), "loss");
  expect_rejected(progress_with("[1]"), "loss");

  expect_rejected(R"({"type":"done","code":2147483648})", "code");
  expect_rejected(R"({"type":"done","code":-2147483649})", "code");
  expect_rejected(R"({"type":"done"})", "code");
  expect_rejected(R"({"type":"checkpoint","path":"p"})", "phase");
}

TEST(Wire, RejectsOversizeStringsAndPayloads) {
  const std::string at_limit(kMaxStringBytes, 'e');
  EXPECT_EQ(parsed(R"({"type":"error","text":")" + at_limit + R"("})").text, at_limit);
  expect_rejected(R"({"type":"error","text":")" + at_limit + R"(e"})", "text");
  // Escapes count as the bytes they stand for.
  std::string escaped;
  for (size_t i = 0; i <= kMaxStringBytes / 2; ++i) escaped += "\\u00e9";  // é, two bytes each
  expect_rejected(R"({"type":"error","text":")" + escaped + R"("})", "text");
  // Over the frame limit, however it is made up.
  std::string padded = R"({"type":"ping","pad":")" + std::string(kMaxFrameBytes, ' ') + R"("})";
  expect_rejected(padded, "bytes");
  padded = R"({"type":"ping"})" + std::string(kMaxFrameBytes, ' ');
  expect_rejected(padded, "bytes");
}

TEST(Wire, RejectsDeepNestingQuickly) {
  expect_rejected(std::string(100000, '['));  // over the frame limit, too
  expect_rejected(std::string(60000, '['), "nested");
  expect_rejected(std::string(60000, '{'), "nested");
  expect_rejected(R"({"type":"ping","x":)" + std::string(30000, '[') + std::string(30000, ']') + "}",
                  "nested");
  std::string nested16 = R"({"type":"ping","x":)" + std::string(15, '[') + std::string(15, ']') + "}";
  EXPECT_EQ(parsed(nested16).type, MessageType::kPing);
  std::string nested17 = R"({"type":"ping","x":)" + std::string(16, '[') + std::string(16, ']') + "}";
  expect_rejected(nested17, "nested");
  // An escaped quote does not end a string: the brackets after it are still inside.
  EXPECT_EQ(parsed(R"({"type":"error","text":"\"[[[[[[[[[[[[[[[[[[[[[[[[["})").text,
            "\"[[[[[[[[[[[[[[[[[[[[[[[[[");
}

TEST(Wire, ParseWithoutReasonDoesNotNeedOne) {
  EXPECT_FALSE(parse("nope"));
  EXPECT_TRUE(parse(R"({"type":"ping"})"));
}

// Three frames of different types as one byte stream.
std::string three_frames() { return frame(hello()) + frame(progress()) + frame(done(1)); }

std::vector<std::string> drain(FrameReader& reader) {
  std::vector<std::string> out;
  while (std::optional<std::string> p = reader.next()) out.push_back(*p);
  return out;
}

TEST(WireFrameReader, SeveralFramesInOneFeed) {
  FrameReader reader;
  const std::string stream = three_frames();
  ASSERT_TRUE(reader.feed(stream.data(), stream.size()));
  const std::vector<std::string> payloads = drain(reader);
  ASSERT_EQ(payloads.size(), 3u);
  EXPECT_EQ(payloads[0], encode(hello()));
  EXPECT_EQ(payloads[1], encode(progress()));
  EXPECT_EQ(payloads[2], encode(done(1)));
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_FALSE(reader.next());
}

TEST(WireFrameReader, FramesSplitAtEveryByte) {
  const std::string stream = three_frames();
  const std::vector<std::string> expected = {encode(hello()), encode(progress()), encode(done(1))};
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    ASSERT_TRUE(reader.feed(stream.data(), cut));
    std::vector<std::string> got = drain(reader);
    ASSERT_TRUE(reader.feed(stream.data() + cut, stream.size() - cut));
    for (std::string& p : drain(reader)) got.push_back(std::move(p));
    ASSERT_EQ(got, expected) << "cut at " << cut;
    EXPECT_EQ(reader.buffered(), 0u);
  }
  // And one byte at a time.
  FrameReader reader;
  std::vector<std::string> got;
  for (const char c : stream) {
    ASSERT_TRUE(reader.feed(&c, 1));
    for (std::string& p : drain(reader)) got.push_back(std::move(p));
  }
  EXPECT_EQ(got, expected);
}

TEST(WireFrameReader, ZeroLengthHeaderBreaksTheStream) {
  FrameReader reader;
  const std::string good = frame(ping());
  const std::string stream = good + header(0) + good;
  EXPECT_FALSE(reader.feed(stream.data(), stream.size()));
  // What came before the bad header is still delivered; nothing after it.
  EXPECT_EQ(drain(reader), std::vector<std::string>{encode(ping())});
  EXPECT_FALSE(reader.feed(good.data(), good.size()));
  EXPECT_FALSE(reader.next());
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(WireFrameReader, OversizeHeaderBreaksTheStreamEvenWhenSplit) {
  FrameReader reader(100);
  const std::string big = header(101);
  EXPECT_TRUE(reader.feed(big.data(), 2));  // not a whole header yet
  EXPECT_FALSE(reader.feed(big.data() + 2, 2));
  EXPECT_FALSE(reader.feed("x", 1));
  EXPECT_FALSE(reader.next());

  FrameReader at_limit(100);
  const std::string exact = header(100) + std::string(100, 'y');
  ASSERT_TRUE(at_limit.feed(exact.data(), exact.size()));
  EXPECT_EQ(at_limit.next(), std::string(100, 'y'));

  FrameReader defaults;
  const std::string huge = header(kMaxFrameBytes + 1);
  EXPECT_FALSE(defaults.feed(huge.data(), huge.size()));
  const std::string all_ones = "\xFF\xFF\xFF\xFF";
  FrameReader again;
  EXPECT_FALSE(again.feed(all_ones.data(), all_ones.size()));
}

TEST(WireFrameReader, BufferStaysBoundedWhileDraining) {
  FrameReader reader;
  const std::string one = frame(progress());
  std::string stream;
  for (int i = 0; i < 2000; ++i) stream += one;
  size_t most = 0, count = 0;
  constexpr size_t kChunk = 97;  // not a divisor of the frame size: frames straddle chunks
  for (size_t at = 0; at < stream.size(); at += kChunk) {
    ASSERT_TRUE(reader.feed(stream.data() + at, std::min(kChunk, stream.size() - at)));
    most = std::max(most, reader.buffered());
    count += drain(reader).size();
    most = std::max(most, reader.buffered());
  }
  EXPECT_EQ(count, 2000u);
  EXPECT_LT(most, one.size() + kChunk);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(WireToken, HexOfTheRightLengthAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const std::string token = make_token();
    ASSERT_EQ(token.size(), kTokenChars);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(WireToken, SameToken) {
  const std::string a = make_token();
  std::string b = a;
  EXPECT_TRUE(same_token(a, b));
  b.front() = b.front() == '0' ? '1' : '0';
  EXPECT_FALSE(same_token(a, b));
  b = a;
  b.back() = b.back() == '0' ? '1' : '0';
  EXPECT_FALSE(same_token(a, b));
  EXPECT_FALSE(same_token(a, a.substr(0, kTokenChars - 1)));
  EXPECT_FALSE(same_token(a, a + "0"));
  EXPECT_FALSE(same_token(a, ""));
  EXPECT_FALSE(same_token("", a));
  EXPECT_TRUE(same_token("", ""));
  EXPECT_FALSE(same_token(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(WireAddress, GoodAddresses) {
  Address a = parse_address("node17:29500");
  EXPECT_EQ(a.host, "node17");
  EXPECT_EQ(a.port, 29500);
  a = parse_address("10.0.0.1:1");
  EXPECT_EQ(a.host, "10.0.0.1");
  EXPECT_EQ(a.port, 1);
  a = parse_address("localhost:65535");
  EXPECT_EQ(a.port, 65535);
  a = parse_address("[::1]:8080");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 8080);
  a = parse_address("fe80::1:443");  // split at the last ':'
  EXPECT_EQ(a.host, "fe80::1");
  EXPECT_EQ(a.port, 443);
}

TEST(WireAddress, BadAddresses) {
  for (const char* bad : {"node17", "node17:", ":29500", "node17:0", "node17:65536", "node17:99999999999999999999",
                          "node17:12a", "node17:-1", "node17:+80", "node17: 80", "node17:0x50", "", ":", "[]:80"}) {
    SCOPED_TRACE(bad);
    try {
      parse_address(bad);
      ADD_FAILURE() << "accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("host:port"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace strike::core::wire
