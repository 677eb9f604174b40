// YAML config files map onto CLI11 flags one to one, and flags override the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"

namespace fs = std::filesystem;

namespace {
struct Opts {
  int64_t batch_size = 128;
  double lr = 1e-3;
  std::string backbone = "small_cnn";
  bool augment = false;
};

void add(CLI::App& app, Opts& o) {
  strike::core::enable_yaml_config(app);
  app.add_option("--batch-size", o.batch_size, "batch");
  app.add_option("--lr", o.lr, "lr");
  app.add_option("--backbone", o.backbone, "backbone");
  app.add_flag("--augment,!--no-augment", o.augment, "augment");
}
}  // namespace

TEST(YamlConfig, FileValuesApplyAndFlagsOverride) {
  auto path = fs::temp_directory_path() / ("strike-config-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "batch_size: 64\nlr: 0.5\nbackbone: resnet18\naugment: true\n";
  CLI::App app;
  Opts o;
  add(app, o);
  std::vector<std::string> args = {"--lr", "0.25", "--config", path.string()};
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  app.parse(args);
  EXPECT_EQ(o.batch_size, 64);
  EXPECT_DOUBLE_EQ(o.lr, 0.25);
  EXPECT_EQ(o.backbone, "resnet18");
  EXPECT_TRUE(o.augment);
  std::string resolved = strike::core::resolved_config(app);
  EXPECT_NE(resolved.find("batch_size: 64"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("lr: 0.25"), std::string::npos) << resolved;
  fs::remove(path);
}

TEST(YamlConfig, UnknownKeyAndBadYamlAreErrors) {
  auto path = fs::temp_directory_path() / ("strike-config-bad-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "batch_sise: 64\n";
  CLI::App app;
  Opts o;
  add(app, o);
  EXPECT_THROW(app.parse(std::vector<std::string>{path.string(), "--config"}), CLI::ParseError);
  std::ofstream(path, std::ios::trunc) << "lr: [1, 2\n";
  CLI::App app2;
  Opts o2;
  add(app2, o2);
  EXPECT_THROW(app2.parse(std::vector<std::string>{path.string(), "--config"}), CLI::ParseError);
  fs::remove(path);
}

TEST(YamlConfig, HelpShowsDefaults) {
  CLI::App app;
  Opts o;
  add(app, o);
  std::string help = app.help();
  EXPECT_NE(help.find("128"), std::string::npos) << help;
  EXPECT_NE(help.find("small_cnn"), std::string::npos) << help;
}
