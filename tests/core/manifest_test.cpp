// Manifest JSON round trip and validation messages; shard writer/reader checks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/fs.h"
#include "tests/core/test_dir.h"
#include "core/manifest.h"
#include "core/shard.h"

namespace fs = std::filesystem;
using namespace strike;

namespace {
core::Manifest sample() {
  core::Manifest m;
  m.task = "image_classification";
  m.source = "idx";
  m.fields = {{"image", "uint8", {1, 2, 2}}, {"label", "int64", {}}};
  m.class_names = {"a", "b"};
  m.splits = {{"train", 3, {{"train-0.h5", 3, 100, "crc32:00000000"}}}};
  m.mean = {0.5};
  m.std = {0.25};
  m.extra = {{"seed", 1}};
  return m;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Manifest, SaveLoadRoundTripAndHashIsStable) {
  auto dir = fresh_test_dir("strike-manifest");
  auto m = sample();
  m.save(dir.string());
  auto r = core::Manifest::load(dir.string());
  EXPECT_EQ(r.to_json(), m.to_json());
  EXPECT_EQ(r.hash(), m.hash());
  EXPECT_EQ(r.field("image").sample_bytes(), 4);
  EXPECT_EQ(r.field("label").sample_bytes(), 8);
  m.class_names.push_back("c");
  EXPECT_NE(m.hash(), r.hash());
  strike::core::remove_tree(dir.string());
}

TEST(Manifest, ErrorsNameTheFileAndTheProblem) {
  auto dir = fresh_test_dir("strike-manifest");
  EXPECT_NE(error_of([&] { core::Manifest::load(dir.string()); }).find("manifest.json"), std::string::npos);
  std::ofstream(dir / "manifest.json") << "{ not json";
  EXPECT_NE(error_of([&] { core::Manifest::load(dir.string()); }).find("not valid JSON"), std::string::npos);
  auto j = sample().to_json();
  j["splits"]["train"]["samples"] = 5;
  std::ofstream(dir / "manifest.json", std::ios::trunc) << j.dump();
  EXPECT_NE(error_of([&] { core::Manifest::load(dir.string()); }).find("claims 5 samples"), std::string::npos);
  EXPECT_NE(error_of([&] { sample().split("val"); }).find("splits present: train"), std::string::npos);
  EXPECT_NE(error_of([&] { core::Manifest::load((dir / "nope").string()); }).find("does not exist"), std::string::npos);
  strike::core::remove_tree(dir.string());
}

TEST(Shard, WriteReadRowsAndChecksum) {
  auto dir = fresh_test_dir("strike-manifest");
  std::vector<core::FieldSpec> fields = {{"image", "uint8", {1, 2, 2}}, {"label", "int64", {}}};
  core::ShardWriter writer((dir / "s.h5").string(), fields, 3);
  std::vector<uint8_t> pixels(12);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i);
  std::vector<int64_t> labels = {1, 0, 1};
  writer.append("image", pixels.data(), 2);
  writer.append("image", pixels.data() + 8, 1);
  writer.append("label", labels.data(), 3);
  auto info = writer.finish();
  EXPECT_EQ(info.file, "s.h5");
  EXPECT_EQ(info.samples, 3);
  EXPECT_EQ(info.checksum.rfind("crc32:", 0), 0u);
  core::ShardReader reader((dir / "s.h5").string(), fields);
  EXPECT_EQ(reader.rows(), 3);
  std::vector<uint8_t> out(8);
  reader.read(fields[0], 1, 2, out.data());
  EXPECT_EQ(out, std::vector<uint8_t>(pixels.begin() + 4, pixels.end()));
  EXPECT_THROW(reader.read(fields[0], 2, 2, out.data()), Error);
  // A reader expecting another shape refuses the shard, naming it.
  std::vector<core::FieldSpec> wrong = {{"image", "uint8", {1, 3, 3}}, {"label", "int64", {}}};
  try {
    core::ShardReader bad((dir / "s.h5").string(), wrong);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("s.h5"), std::string::npos);
  }
  strike::core::remove_tree(dir.string());
}

TEST(Shard, UnfinishedWriterLeavesNoFile) {
  auto dir = fresh_test_dir("strike-manifest");
  {
    core::ShardWriter writer((dir / "s.h5").string(), {{"label", "int64", {}}}, 3);
    int64_t one = 1;
    writer.append("label", &one, 1);
    EXPECT_THROW(writer.finish(), Error);
  }
  EXPECT_TRUE(fs::is_empty(dir));
  strike::core::remove_tree(dir.string());
}
