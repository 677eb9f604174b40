// A trained model rebuilt from its checkpoint alone: task, weights and the dataset's manifest.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "core/manifest.h"
#include "tasks/task.h"

namespace strike::worker {

struct TrainedModel {
  std::unique_ptr<tasks::Task> task;  // in eval mode, weights loaded
  core::Manifest manifest;            // of the dataset it was trained on (classes, shapes, statistics)
  tasks::ModelOptions model;          // as configured for the run
  std::string data;                   // dataset directory the run trained on
  std::string checkpoint;             // path it was loaded from
  std::map<std::string, std::string> assets;  // files stored with the weights (tokenizer.model), see model_assets
};

// The dataset files a model trained on `dataset_dir` needs when it is used without the dataset: a text
// dataset's tokenizer (manifest extra.tokenizer.file), checked against the manifest's checksum. Empty for
// other datasets. Throws Error naming the file when it is missing or changed.
std::map<std::string, std::string> model_assets(const std::string& dataset_dir, const core::Manifest& manifest);

// Reads the checkpoint's config and manifest, builds the task and loads its weights.
TrainedModel load_trained_model(const std::string& checkpoint_path);

}  // namespace strike::worker
