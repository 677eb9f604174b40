// YAML <-> CLI11 adapter built on yaml-cpp.
#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>

#include "core/error.h"

namespace strike::core {

namespace {

std::string to_key(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}
std::string to_flag(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

void collect(const YAML::Node& node, std::vector<std::string> parents, std::vector<CLI::ConfigItem>& items) {
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    CLI::ConfigItem item;
    item.parents = parents;
    item.name = to_flag(key);
    if (value.IsMap()) {
      auto nested = parents;
      nested.push_back(key);
      collect(value, nested, items);
      continue;
    }
    if (value.IsSequence()) {
      for (const auto& element : value) item.inputs.push_back(element.as<std::string>());
    } else if (value.IsScalar()) {
      item.inputs.push_back(value.as<std::string>());
    }
    items.push_back(item);
  }
}

bool skipped(const CLI::Option* opt) {
  const auto& names = opt->get_lnames();
  if (names.empty()) return true;
  const std::string& name = names.front();
  return name == "help" || name == "config" || name == "help-all";
}

// CLI11 2.1 reads `--config` only on the top-level app, never on a subcommand. So a subcommand
// applies its file from the option's callback, which runs after the command line is parsed (flags
// given there are already set and win) and before required options are checked.
void apply_config_file(CLI::App& app, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CLI::FileError::Missing(path);
  for (const CLI::ConfigItem& item : YamlConfig().from_config(in)) {
    CLI::Option* option = item.parents.empty() ? app.get_option_no_throw("--" + item.name) : nullptr;
    if (!option && item.parents.empty()) option = app.get_option_no_throw(item.name);
    if (!option) throw CLI::ConfigError("unknown option '" + item.fullname() + "' in config file " + path);
    if (option->count() == 0) option->add_result(item.inputs);
  }
}

}  // namespace

std::vector<CLI::ConfigItem> YamlConfig::from_config(std::istream& input) const {
  std::vector<CLI::ConfigItem> items;
  try {
    YAML::Node root = YAML::Load(input);
    if (root.IsNull()) return items;
    if (!root.IsMap()) throw CLI::ConversionError("config file must be a YAML map of option: value");
    collect(root, {}, items);
  } catch (const YAML::Exception& e) {
    throw CLI::ConversionError(std::string("config file is not valid YAML: ") + e.what());
  }
  return items;
}

std::string YamlConfig::to_config(const CLI::App* app, bool default_also, bool, std::string) const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const CLI::Option* opt : app->get_options()) {
    if (skipped(opt)) continue;
    std::vector<std::string> values;
    if (opt->count() > 0) {
      values = opt->reduced_results();
    } else if (default_also && !opt->get_default_str().empty()) {
      values = {opt->get_default_str()};
    } else if (opt->get_type_size() == 0) {
      values = {"false"};  // an unset flag
    } else {
      continue;
    }
    out << YAML::Key << to_key(opt->get_lnames().front());
    if (opt->get_expected_max() > 1) {
      out << YAML::Value << YAML::Flow << values;
    } else {
      out << YAML::Value << (values.empty() ? std::string() : values.front());
    }
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void enable_yaml_config(CLI::App& app) {
  app.config_formatter(std::make_shared<YamlConfig>());
  app.set_config("--config", "", "YAML file of option: value (command-line flags override it)");
  // A misspelt key silently ignored would train something other than what the file says.
  app.allow_config_extras(CLI::config_extras_mode::error);
  if (app.get_parent() != nullptr) {
    CLI::App* target = &app;
    app.get_config_ptr()->each([target](const std::string& path) { apply_config_file(*target, path); });
  }
  app.option_defaults()->always_capture_default();
}

CLI::App* add_configurable_subcommand(CLI::App& parent, const std::string& name, const std::string& description) {
  CLI::App* sub = parent.add_subcommand(name, description);
  enable_yaml_config(*sub);
  return sub;
}

std::string resolved_config(const CLI::App& app) { return YamlConfig().to_config(&app, true, false, ""); }

}  // namespace strike::core
