// Ragged shard fields (shape [-1]): values + offsets round trip, and damaged offsets named with the file.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "core/error.h"
#include "core/h5.h"
#include "core/manifest.h"
#include "core/shard.h"
#include "test_dir.h"

namespace strike {
namespace {

const std::vector<core::FieldSpec> kFields = {{"tokens", "int32", {-1}}, {"label", "int64", {}}};

std::vector<int32_t> as_int32(const std::vector<uint8_t>& bytes) {
  std::vector<int32_t> out(bytes.size() / sizeof(int32_t));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

// Expects `fn` to throw strike::Error whose message mentions both `path` and `text`.
template <typename Fn>
void expect_error(Fn fn, const std::string& path, const std::string& text) {
  try {
    fn();
    FAIL() << "expected an error mentioning " << text;
  } catch (const Error& e) {
    const std::string message = std::string(e.what()) + " @ " + e.where();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(text), std::string::npos) << message;
  }
}

// A hand-made shard with the given offsets, for damage no writer would produce.
std::string write_raw(const std::filesystem::path& dir, const std::vector<int64_t>& offsets, int64_t values,
                      int64_t label_rows = -1) {
  const std::string path = (dir / "raw.h5").string();
  auto file = h5::File::create(path);
  std::vector<int32_t> tokens(static_cast<size_t>(values));
  std::iota(tokens.begin(), tokens.end(), 0);
  std::vector<int64_t> labels(label_rows >= 0 ? label_rows : offsets.size() - 1, 0);
  file.write("tokens", h5::DType::kInt32, {values}, tokens.data());
  file.write("tokens_offsets", h5::DType::kInt64, {static_cast<int64_t>(offsets.size())}, offsets.data());
  file.write("label", h5::DType::kInt64, {static_cast<int64_t>(labels.size())}, labels.data());
  return path;
}

TEST(RaggedShard, RoundTrip) {
  auto dir = fresh_test_dir("ragged");
  const std::string path = (dir / "s.h5").string();
  // Rows of lengths 3, 0, 2, then 1 and 4 appended in a second call.
  std::vector<int32_t> first = {10, 11, 12, 20, 21}, second = {30, 40, 41, 42, 43};
  std::vector<int64_t> first_lengths = {3, 0, 2}, second_lengths = {1, 4}, labels = {0, 1, 0, 1, 1};
  {
    core::ShardWriter writer(path, kFields, 5);
    writer.append_ragged("tokens", first.data(), first_lengths.data(), 3);
    writer.append_ragged("tokens", second.data(), second_lengths.data(), 2);
    writer.append("label", labels.data(), 5);
    EXPECT_THROW(writer.append("tokens", first.data(), 1), Error);  // a ragged field takes append_ragged only
    core::ShardInfo info = writer.finish();
    EXPECT_EQ(info.samples, 5);
  }
  core::ShardReader reader(path, kFields);
  EXPECT_EQ(reader.rows(), 5);
  std::vector<int64_t> offsets;
  std::vector<uint8_t> bytes;
  reader.read_ragged(kFields[0], 0, 5, offsets, bytes);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 3, 3, 5, 6, 10}));
  EXPECT_EQ(as_int32(bytes), (std::vector<int32_t>{10, 11, 12, 20, 21, 30, 40, 41, 42, 43}));
  reader.read_ragged(kFields[0], 2, 2, offsets, bytes);  // rebased to start at 0
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 2, 3}));
  EXPECT_EQ(as_int32(bytes), (std::vector<int32_t>{20, 21, 30}));
  reader.read_ragged(kFields[0], 1, 1, offsets, bytes);  // an empty row
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 0}));
  EXPECT_TRUE(bytes.empty());
  EXPECT_NO_THROW(reader.check_offsets(kFields[0]));
  EXPECT_THROW(reader.read_ragged(kFields[0], 4, 2, offsets, bytes), Error);
  EXPECT_THROW(kFields[0].sample_bytes(), Error);
}

TEST(RaggedShard, UnfinishedRaggedFieldIsRefused) {
  auto dir = fresh_test_dir("ragged");
  core::ShardWriter writer((dir / "s.h5").string(), kFields, 2);
  std::vector<int32_t> v = {1};
  std::vector<int64_t> lengths = {1}, labels = {0, 0};
  writer.append_ragged("tokens", v.data(), lengths.data(), 1);
  writer.append("label", labels.data(), 2);
  EXPECT_THROW(writer.finish(), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "s.h5"));
}

TEST(RaggedShard, NonMonotonicOffsetsAreNamed) {
  auto dir = fresh_test_dir("ragged");
  const std::string path = write_raw(dir, {0, 3, 2, 5}, 5);
  core::ShardReader reader(path, kFields);  // first and last offsets are fine
  std::vector<int64_t> offsets;
  std::vector<uint8_t> bytes;
  expect_error([&] { reader.read_ragged(kFields[0], 0, 3, offsets, bytes); }, path, "non-decreasing");
  // Rows that do not start at value 0 (the decrease once went unseen there, as offsets were rebased).
  expect_error([&] { reader.read_ragged(kFields[0], 1, 2, offsets, bytes); }, path, "entry 2");
  expect_error([&] { reader.check_offsets(kFields[0]); }, path, "entry 2");
}

TEST(RaggedShard, LastOffsetMustMatchTheValues) {
  auto dir = fresh_test_dir("ragged");
  const std::string path = write_raw(dir, {0, 2, 4, 4}, 5);
  expect_error([&] { core::ShardReader reader(path, kFields); }, path, "holds 5 values");
}

TEST(RaggedShard, OffsetsNotStartingAtZeroOrMissing) {
  auto dir = fresh_test_dir("ragged");
  std::string path = write_raw(dir, {1, 2, 5}, 5);
  expect_error([&] { core::ShardReader reader(path, kFields); }, path, "not 0");
  // Fewer offsets than the label's rows: a truncated offsets dataset.
  path = write_raw(dir, {0, 2, 5}, 5, 3);
  expect_error([&] { core::ShardReader reader(path, kFields); }, path, "row counts");
  {
    auto file = h5::File::create(path);  // values without their offsets
    std::vector<int32_t> tokens = {1, 2, 3};
    std::vector<int64_t> labels = {0, 0, 0};
    file.write("tokens", h5::DType::kInt32, {3}, tokens.data());
    file.write("label", h5::DType::kInt64, {3}, labels.data());
  }
  expect_error([&] { core::ShardReader reader(path, kFields); }, path, "tokens_offsets");
}

TEST(RaggedShard, ManifestAcceptsOnlyMinusOneAsRagged) {
  core::Manifest m;
  m.task = "text_classification";
  m.fields = kFields;
  core::Manifest back = core::Manifest::from_json(m.to_json());
  EXPECT_TRUE(back.field("tokens").ragged());
  EXPECT_FALSE(back.field("label").ragged());
  m.fields = {{"image", "uint8", {3, -1}}};
  EXPECT_THROW(core::Manifest::from_json(m.to_json()), Error);
}

}  // namespace
}  // namespace strike
