// Checkpoint HDF5 layout: tensors as typed datasets, JSON and YAML as text datasets.
#include "core/checkpoint.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/env.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/h5.h"

namespace strike::core {

namespace {

h5::DType to_h5(torch::ScalarType type) {
  switch (type) {
    case torch::kUInt8: return h5::DType::kUInt8;
    case torch::kInt32: return h5::DType::kInt32;
    case torch::kInt64: return h5::DType::kInt64;
    case torch::kFloat64: return h5::DType::kFloat64;
    default: return h5::DType::kFloat32;
  }
}

torch::ScalarType to_torch(h5::DType type) {
  switch (type) {
    case h5::DType::kUInt8: return torch::kUInt8;
    case h5::DType::kInt32: return torch::kInt32;
    case h5::DType::kInt64: return torch::kInt64;
    case h5::DType::kFloat64: return torch::kFloat64;
    case h5::DType::kFloat32: return torch::kFloat32;
  }
  return torch::kFloat32;
}

// Half and bfloat16 are widened to float32 and bool to uint8, so h5py and numpy read every entry.
torch::ScalarType storage_type(torch::ScalarType type) {
  switch (type) {
    case torch::kUInt8:
    case torch::kInt32:
    case torch::kInt64:
    case torch::kFloat64:
    case torch::kFloat32: return type;
    case torch::kBool: return torch::kUInt8;
    default: return torch::kFloat32;
  }
}

void write_tensors(h5::File& file, const std::string& group, const NamedTensors& tensors) {
  file.create_group(group);
  int64_t index = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name.find('/') != std::string::npos) throw Error("tensor name '" + name + "' contains '/'", file.path());
    auto stored = tensor.detach().to(torch::kCPU, storage_type(tensor.scalar_type())).contiguous();
    std::string path = group + "/" + name;
    file.write(path, to_h5(stored.scalar_type()), stored.sizes().vec(), stored.data_ptr());
    file.set_attr(path, "dtype", std::string(c10::toString(tensor.scalar_type())));
    file.set_attr(path, "index", index++);  // HDF5 lists names sorted; this keeps state_dict order
  }
}

NamedTensors read_tensors(const h5::File& file, const std::string& group) {
  NamedTensors tensors;
  if (!file.exists(group)) return tensors;
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& name : file.list(group)) {
    std::string path = group + "/" + name;
    order.emplace_back(file.has_attr(path, "index") ? file.attr_int(path, "index") : 0, name);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [index, name] : order) {
    std::string path = group + "/" + name;
    h5::DType dtype = file.dtype(path);
    auto tensor = torch::empty(file.dims(path), torch::TensorOptions().dtype(to_torch(dtype)));
    file.read(path, dtype, tensor.data_ptr());
    tensors.emplace_back(name, tensor);
  }
  return tensors;
}

// Fault-injection tests ("STEP:SECONDS") hold the write of the checkpoint taken at optimizer step
// STEP halfway, long enough to kill the process mid-write.
void pause_if_testing(const nlohmann::json& trainer_state) {
  const char* pause = env::get(env::kCheckpointPause, nullptr);
  if (!pause) return;
  long long step = -1;
  double seconds = 0;
  if (std::sscanf(pause, "%lld:%lf", &step, &seconds) == 2 && trainer_state.value("step", int64_t{-1}) == step) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  }
}

}  // namespace

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path) {
  std::string tmp = temporary_name(path);
  try {
    h5::File file = h5::File::create(tmp);
    file.set_attr("/", "format_version", int64_t{checkpoint.format_version});
    file.set_attr("/", "manifest_hash", checkpoint.manifest_hash);
    write_tensors(file, "/model", checkpoint.model);
    pause_if_testing(checkpoint.trainer);
    write_tensors(file, "/optimizer", checkpoint.optimizer);
    file.create_group("/trainer");
    if (checkpoint.rng_state.defined()) {
      auto rng = checkpoint.rng_state.contiguous();
      file.write("/trainer/rng_state", h5::DType::kUInt8, {rng.numel()}, rng.data_ptr());
    }
    file.write_text("/trainer_state", checkpoint.trainer.dump());
    file.write_text("/optimizer_meta", checkpoint.optimizer_meta.dump());
    file.write_text("/scheduler", checkpoint.scheduler.dump());
    file.write_text("/config", checkpoint.config);
    file.write_text("/manifest", checkpoint.manifest.dump());
    if (!checkpoint.assets.empty()) file.create_group("/assets");
    for (const auto& [name, bytes] : checkpoint.assets) {
      if (name.empty() || name.find('/') != std::string::npos) throw Error("asset name '" + name + "' is not a file name", tmp);
      file.write("/assets/" + name, h5::DType::kUInt8, {static_cast<int64_t>(bytes.size())}, bytes.data());
    }
    file.set_attr("/", "complete", int64_t{1});
    file.flush();
    file.close();
    commit_file(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  h5::File file = h5::File::open(path);
  if (!file.has_attr("/", "complete") || file.attr_int("/", "complete") != 1) {
    throw Error("checkpoint is incomplete", path, "its write was interrupted; use an earlier checkpoint");
  }
  Checkpoint c;
  c.format_version = static_cast<int>(file.attr_int("/", "format_version"));
  if (c.format_version > kCheckpointFormatVersion) {
    throw Error("checkpoint format " + std::to_string(c.format_version) + " is newer than this strike", path,
                "upgrade strike");
  }
  c.manifest_hash = file.attr_string("/", "manifest_hash");
  c.model = read_tensors(file, "/model");
  c.optimizer = read_tensors(file, "/optimizer");
  if (file.exists("/trainer/rng_state")) {
    auto dims = file.dims("/trainer/rng_state");
    c.rng_state = torch::empty(dims, torch::kUInt8);
    file.read("/trainer/rng_state", h5::DType::kUInt8, c.rng_state.data_ptr());
  }
  try {
    c.trainer = nlohmann::json::parse(file.read_text("/trainer_state"));
    c.optimizer_meta = nlohmann::json::parse(file.read_text("/optimizer_meta"));
    c.scheduler = nlohmann::json::parse(file.read_text("/scheduler"));
    c.manifest = nlohmann::json::parse(file.read_text("/manifest"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("checkpoint metadata is corrupt: ") + e.what(), path, "use an earlier checkpoint");
  }
  c.config = file.read_text("/config");
  if (file.exists("/assets")) {
    for (const auto& name : file.list("/assets")) {
      const std::string at = "/assets/" + name;
      std::string bytes(static_cast<size_t>(file.dims(at).at(0)), '\0');
      if (!bytes.empty()) file.read(at, h5::DType::kUInt8, bytes.data());
      c.assets[name] = std::move(bytes);
    }
  }
  return c;
}

bool is_complete_checkpoint(const std::string& path) {
  try {
    h5::File file = h5::File::open(path);
    return file.has_attr("/", "complete") && file.attr_int("/", "complete") == 1;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace strike::core
