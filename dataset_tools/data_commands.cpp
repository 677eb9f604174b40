// CLI11 wiring of the data commands onto ConvertOptions, inspect() and verify().
#include "dataset_tools/data_commands.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "core/config.h"
#include "core/error.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/inspect.h"
#include "dataset_tools/verify.h"

namespace strike::data {

namespace {

// CLI11 2.1 reads `--config` only on the top-level app, never on a subcommand. So a subcommand
// applies its file from the option's callback, which runs after the command line is parsed (flags
// given there are already set and win) and before required options are checked.
void apply_config_file(CLI::App& app, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CLI::FileError::Missing(path);
  for (const CLI::ConfigItem& item : core::YamlConfig().from_config(in)) {
    CLI::Option* option = item.parents.empty() ? app.get_option_no_throw("--" + item.name) : nullptr;
    if (!option && item.parents.empty()) option = app.get_option_no_throw(item.name);
    if (!option) throw CLI::ConfigError("unknown option '" + item.fullname() + "' in config file " + path);
    if (option->count() == 0) option->add_result(item.inputs);
  }
}

// enable_yaml_config plus the subcommand workaround above.
void enable_config(CLI::App& sub) {
  core::enable_yaml_config(sub);
  CLI::App* app = &sub;
  sub.get_config_ptr()->each([app](const std::string& path) { apply_config_file(*app, path); });
}

void add_convert(CLI::App& data) {
  CLI::App* sub = data.add_subcommand("convert", "Convert IDX files or image folders into a sharded HDF5 dataset");
  enable_config(*sub);
  auto options = std::make_shared<ConvertOptions>();
  sub->add_option("--source", options->source, "Input kind: auto (IDX if train-images-idx3-ubyte[.gz] is present), idx, image_folder")
      ->check(CLI::IsMember({"auto", "idx", "image_folder"}));
  sub->add_option("--input", options->input, "Raw data directory: IDX files, or one sub-folder of images per class")
      ->required();
  sub->add_option("--output", options->output, "Dataset directory to write")->required();
  sub->add_option("--shards", options->shards, "Shards of the train split (val/test get proportionally fewer)")
      ->check(CLI::Range(int64_t{1}, int64_t{99999}));
  sub->add_option("--val-fraction", options->val_fraction, "Share of train carved out per class as val")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--test-fraction", options->test_fraction,
                  "Share of train carved out per class as test when the source has no test set")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--seed", options->seed, "Seed of the split and of the sample order");
  sub->add_option("--image-size", options->image_size, "Resize every image to NxN (0 = keep the source size)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--channels", options->channels, "1 (gray) or 3 (RGB); 0 = as stored")->check(CLI::IsMember({0, 1, 3}));
  sub->add_flag("--overwrite", options->overwrite, "Replace the dataset in a non-empty output directory");
  sub->callback([options] {
    core::Manifest m = convert(*options);
    std::cout << "wrote " << options->output << ":";
    for (const auto& split : m.splits) std::cout << " " << split.name << " " << split.samples;
    std::cout << " samples, " << m.class_names.size() << " classes\n";
  });
}

void add_inspect(CLI::App& data) {
  CLI::App* sub = data.add_subcommand("inspect", "Summarise a dataset directory");
  enable_config(*sub);
  auto dir = std::make_shared<std::string>();
  sub->add_option("dir", *dir, "Dataset directory")->required();
  sub->callback([dir] { inspect(*dir, std::cout); });
}

void add_verify(CLI::App& data) {
  CLI::App* sub = data.add_subcommand("verify", "Re-check every shard's checksum, shape and row count");
  enable_config(*sub);
  auto dir = std::make_shared<std::string>();
  sub->add_option("dir", *dir, "Dataset directory")->required();
  sub->callback([dir] {
    VerifyReport report = verify(*dir);
    if (report.ok) {
      std::cout << "OK\n";
      return;
    }
    for (const auto& problem : report.problems) std::cout << problem << "\n";
    throw Error(std::to_string(report.problems.size()) + " problem(s) found", *dir,
                "re-create the dataset with `strike data convert --overwrite`");
  });
}

}  // namespace

void add_data_commands(CLI::App& parent) {
  CLI::App* data = parent.add_subcommand("data", "Convert, inspect and verify datasets");
  data->require_subcommand(1);
  add_convert(*data);
  add_inspect(*data);
  add_verify(*data);
}

}  // namespace strike::data
