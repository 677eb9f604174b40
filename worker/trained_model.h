// A trained model rebuilt from its checkpoint alone: task, weights and the dataset's manifest.
#pragma once
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
};

// Reads the checkpoint's config and manifest, builds the task and loads its weights.
TrainedModel load_trained_model(const std::string& checkpoint_path);

}  // namespace strike::worker
