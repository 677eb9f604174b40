// The `data` command group driven through CLI11 the way `strike` will drive it.
#include "dataset_tools/data_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/error.h"
#include "core/manifest.h"
#include "test_util.h"

namespace strike {
namespace {

// Parses `args` (without the program name) on a fresh app holding only the data commands.
void run(std::vector<std::string> args) {
  CLI::App app("strike");
  data::add_data_commands(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  app.parse(args);
}

// run() with stdout captured and returned; released on failure too, so gtest's report stays visible.
std::string run_captured(const std::vector<std::string>& args) {
  testing::internal::CaptureStdout();
  try {
    run(args);
  } catch (...) {
    std::cerr << testing::internal::GetCapturedStdout();
    throw;
  }
  return testing::internal::GetCapturedStdout();
}

class DataCommands : public ::testing::Test {
 protected:
  void SetUp() override { test::write_idx_set(test::make_idx_set(60, 20, 4, 4, 10), input_.path(), true); }
  test::TempDir input_, output_;
};

TEST_F(DataCommands, ConvertInspectVerify) {
  std::string out = output_ / "ds";
  run_captured({"data", "convert", "--input", input_.path(), "--output", out, "--shards", "2", "--val-fraction", "0.2",
                "--seed", "3"});
  core::Manifest m = core::Manifest::load(out);
  EXPECT_EQ(m.split("val").samples, 12);
  EXPECT_EQ(m.extra["seed"], 3);
  std::string printed = run_captured({"data", "inspect", out}) + run_captured({"data", "verify", out});
  EXPECT_NE(printed.find("OK"), std::string::npos) << printed;
  EXPECT_NE(printed.find("image_classification"), std::string::npos) << printed;
}

TEST_F(DataCommands, VerifyThrowsOnDamage) {
  std::string out = output_ / "ds";
  run_captured({"data", "convert", "--input", input_.path(), "--output", out});
  std::filesystem::resize_file(out + "/test-00000-of-00001.h5", 100);
  testing::internal::CaptureStdout();
  try {
    run({"data", "verify", out});
    testing::internal::GetCapturedStdout();
    FAIL() << "expected strike::Error";
  } catch (const Error& e) {
    std::string printed = testing::internal::GetCapturedStdout();
    EXPECT_NE(std::string(e.what()).find("problem(s) found"), std::string::npos) << e.what();
    EXPECT_NE(printed.find("test-00000-of-00001.h5"), std::string::npos) << printed;
  }
}

TEST_F(DataCommands, YamlConfigAndDefaultsInHelp) {
  std::string out = output_ / "ds";
  std::string config = output_ / "convert.yaml";
  std::ofstream(config) << "input: " << input_.path() << "\noutput: " << out << "\nshards: 3\nval_fraction: 0.25\n";
  run_captured({"data", "convert", "--config", config, "--seed", "5"});
  core::Manifest m = core::Manifest::load(out);
  EXPECT_EQ(m.split("train").shards.size(), 3u);
  EXPECT_EQ(m.split("val").samples, 15);
  EXPECT_EQ(m.extra["seed"], 5);

  CLI::App app("strike");
  data::add_data_commands(app);
  std::string help = app.get_subcommand("data")->get_subcommand("convert")->help();
  for (const char* expected : {"--shards", "--val-fraction", "--image-size", "--overwrite", "--config", "0.1", "auto"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << "missing " << expected << " in\n" << help;
  }
}

TEST_F(DataCommands, BadValuesAreRejected) {
  EXPECT_THROW(run({"data", "convert", "--input", input_.path(), "--output", output_ / "x", "--channels", "2"}),
               CLI::ValidationError);
  EXPECT_THROW(run({"data", "convert", "--input", input_.path(), "--output", output_ / "x", "--shards", "0"}),
               CLI::ValidationError);
  EXPECT_THROW(run({"data", "convert", "--output", output_ / "x"}), CLI::RequiredError);
  EXPECT_THROW(run({"data", "convert", "--input", input_.path(), "--output", output_ / "x", "--val-fraction", "0.5",
                    "--test-fraction", "0.5"}),
               UsageError);
}

}  // namespace
}  // namespace strike
