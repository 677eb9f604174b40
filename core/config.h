// YAML config files for CLI11: `--config run.yaml`, keys equal to long flag names (with '_' for '-').
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace strike::core {

// CLI11 config formatter reading and writing flat YAML maps. Nested maps address subcommands.
// Command-line flags always override values from the file.
class YamlConfig : public CLI::Config {
 public:
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
};

// Adds `--config FILE` (YAML) to `app` (a top-level app or a subcommand) and makes every option
// added after this call show its default in --help.
void enable_yaml_config(CLI::App& app);

// Adds a subcommand that reads `--config FILE.yaml` and shows defaults in --help.
CLI::App* add_configurable_subcommand(CLI::App& parent, const std::string& name, const std::string& description);

// The resolved option values of `app` (after parsing), as YAML: what the run actually used.
std::string resolved_config(const CLI::App& app);

}  // namespace strike::core
