// `verify` catches damaged shards by name; `inspect` summarises a dataset.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "dataset_tools/converter.h"
#include "dataset_tools/inspect.h"
#include "dataset_tools/verify.h"
#include "test_util.h"

namespace strike {
namespace {

namespace fs = std::filesystem;

class VerifyInspect : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_idx_set(test::make_idx_set(120, 30, 5, 5, 10), input_.path(), false);
    options_.input = input_.path();
    options_.output = output_ / "ds";
    options_.shards = 2;
    manifest_ = data::convert(options_);
  }
  std::string shard(int i) const { return options_.output + "/" + manifest_.split("train").shards[i].file; }
  bool mentions(const data::VerifyReport& report, const std::string& text) const {
    for (const auto& p : report.problems) {
      if (p.find(text) != std::string::npos) return true;
    }
    return false;
  }
  test::TempDir input_, output_;
  data::ConvertOptions options_;
  core::Manifest manifest_;
};

TEST_F(VerifyInspect, IntactDatasetVerifies) {
  data::VerifyReport report = data::verify(options_.output);
  EXPECT_TRUE(report.ok);
  EXPECT_TRUE(report.problems.empty());
}

TEST_F(VerifyInspect, FlippedByteIsNamed) {
  auto bytes = test::read_bytes(shard(1));
  bytes[bytes.size() - 100] ^= 0x01;  // inside the data, so HDF5 still opens the file
  test::write_bytes(shard(1), bytes);
  data::VerifyReport report = data::verify(options_.output);
  EXPECT_FALSE(report.ok);
  ASSERT_FALSE(report.problems.empty());
  EXPECT_TRUE(mentions(report, shard(1)));
  EXPECT_TRUE(mentions(report, "checksum"));
  EXPECT_FALSE(mentions(report, shard(0)));
}

TEST_F(VerifyInspect, TruncatedShardIsNamed) {
  fs::resize_file(shard(0), fs::file_size(shard(0)) / 2);
  data::VerifyReport report = data::verify(options_.output);
  EXPECT_FALSE(report.ok);
  for (const auto& p : report.problems) EXPECT_NE(p.find(shard(0)), std::string::npos) << p;
  EXPECT_TRUE(mentions(report, "truncated"));
}

TEST_F(VerifyInspect, MissingShardAndMissingManifest) {
  fs::remove(shard(1));
  data::VerifyReport report = data::verify(options_.output);
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(mentions(report, shard(1) + ": missing"));
  fs::remove(options_.output + "/manifest.json");
  report = data::verify(options_.output);
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(mentions(report, "manifest.json"));
}

TEST_F(VerifyInspect, InspectSummarisesTheDataset) {
  std::ostringstream out;
  data::inspect(options_.output, out);
  const std::string text = out.str();
  for (const char* expected : {"image_classification", "idx", "uint8", "[1, 5, 5]", "int64", "train-00000-of-00002.h5",
                               "val-00000-of-00001.h5", "test-00000-of-00001.h5", "mean", "std", "crc32:"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in:\n" << text;
  }
  EXPECT_NE(text.find("108 samples"), std::string::npos) << text;
}

}  // namespace
}  // namespace strike
