// Rebuilding a model from a checkpoint's own config and manifest.
#include "worker/trained_model.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "core/checkpoint.h"
#include "core/checksum.h"
#include "core/error.h"
#include "core/fs.h"
#include "tasks/task_factory.h"
#include "worker/model_state.h"

namespace strike::worker {

namespace {
template <typename T>
void read_key(const YAML::Node& config, const char* key, T& field) {
  if (config[key]) field = config[key].as<T>();
}
}  // namespace

std::map<std::string, std::string> model_assets(const std::string& dataset_dir, const core::Manifest& manifest) {
  std::map<std::string, std::string> assets;
  const nlohmann::json& tokenizer = manifest.extra.value("tokenizer", nlohmann::json::object());
  if (!tokenizer.contains("file")) return assets;
  const std::string name = tokenizer.at("file").get<std::string>();
  const std::string path = (std::filesystem::path(dataset_dir) / name).string();
  if (!std::filesystem::exists(path)) {
    throw Error("the dataset's tokenizer is missing", path, "copy the whole dataset directory, or convert it again");
  }
  const std::string expected = tokenizer.value("checksum", "");
  if (!expected.empty() && core::file_checksum(path) != expected) {
    throw Error("the tokenizer does not match the manifest's checksum " + expected, path,
                "the file was changed or damaged; convert the dataset again");
  }
  assets[name] = core::read_file(path);
  return assets;
}

TrainedModel load_trained_model(const std::string& checkpoint_path) {
  core::Checkpoint c = core::load_checkpoint(checkpoint_path);
  TrainedModel m;
  m.checkpoint = checkpoint_path;
  m.manifest = core::Manifest::from_json(c.manifest, checkpoint_path);
  m.assets = std::move(c.assets);
  try {
    YAML::Node config = YAML::Load(c.config);
    read_key(config, "task", m.model.task);
    read_key(config, "backbone", m.model.backbone);
    read_key(config, "head", m.model.head);
    read_key(config, "stem", m.model.stem);
    read_key(config, "label_smoothing", m.model.label_smoothing);
    read_key(config, "dropout", m.model.dropout);
    read_key(config, "embedding_dim", m.model.embedding_dim);
    read_key(config, "objective", m.model.objective);
    read_key(config, "data", m.data);
  } catch (const YAML::Exception& e) {
    throw Error(std::string("checkpoint config is not valid YAML: ") + e.what(), checkpoint_path);
  }
  m.model = tasks::resolve_model(m.model, m.manifest);
  m.task = tasks::make_task(m.model, m.manifest);
  load_state_dict(m.task->model(), c.model, checkpoint_path);
  m.task->model().eval();
  return m;
}

}  // namespace strike::worker
