// The checkpoint file: one HDF5 file with weights, optimizer, scheduler and trainer state.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace strike::core {

constexpr int kCheckpointFormatVersion = 1;

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Everything needed to resume a run or to use its model.
// Layout: /model/<state_dict key>, /optimizer/<name>, /trainer/rng_state, text datasets
// /config (YAML), /manifest (JSON), /optimizer_meta, /scheduler, /trainer_state (JSON), /assets/<name>
// (uint8 bytes);
// root attributes format_version, manifest_hash, strike_version and complete=1 (set last).
struct Checkpoint {
  int format_version = kCheckpointFormatVersion;
  NamedTensors model;                  // weights and buffers under PyTorch state_dict names
  NamedTensors optimizer;              // optimizer state tensors (e.g. exp_avg, exp_avg_sq)
  nlohmann::json optimizer_meta = nlohmann::json::object();  // optimizer kind, step count, hyper-parameters
  nlohmann::json scheduler = nlohmann::json::object();       // scheduler kind and position
  nlohmann::json trainer = nlohmann::json::object();         // epoch, step, best metric, ...
  torch::Tensor rng_state;             // CPU generator state (uint8)
  std::string config;                  // resolved YAML config of the run
  nlohmann::json manifest = nlohmann::json::object();  // the dataset's manifest
  std::string manifest_hash;
  // Dataset files the model needs to be used without its dataset (a text dataset's tokenizer.model),
  // by file name, as raw bytes.
  std::map<std::string, std::string> assets;
};

// Writes under a temporary name, flushes, fsyncs and renames: a reader never sees a partial file.
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);

// Reads a checkpoint; throws naming the file if it is incomplete, corrupt or from a newer strike.
Checkpoint load_checkpoint(const std::string& path);

// True if `path` is a complete, readable checkpoint (used to pick one to resume from).
bool is_complete_checkpoint(const std::string& path);

}  // namespace strike::core
