// state_dict extraction and strict loading.
#include "worker/model_state.h"

#include <map>

#include "core/error.h"

namespace strike::worker {

core::NamedTensors state_dict(const torch::nn::Module& model) {
  core::NamedTensors state;
  for (const auto& item : model.named_parameters(true)) state.emplace_back(item.key(), item.value().detach());
  for (const auto& item : model.named_buffers(true)) state.emplace_back(item.key(), item.value().detach());
  return state;
}

int64_t load_prefixed(torch::nn::Module& model, const core::NamedTensors& state, const std::string& prefix,
                      const std::string& where) {
  core::NamedTensors part;
  for (const auto& [name, tensor] : state) {
    if (name.rfind(prefix, 0) == 0) part.emplace_back(name.substr(prefix.size()), tensor);
  }
  std::string child = prefix.substr(0, prefix.size() - 1);
  torch::nn::Module* target = nullptr;
  for (const auto& item : model.named_children()) {
    if (item.key() == child) target = item.value().get();
  }
  if (target == nullptr) throw Error("the model has no part '" + child + "'", where);
  if (part.empty()) {
    throw Error("checkpoint has no '" + prefix + "*' entries", where, "start from a checkpoint of a model with a " + child);
  }
  load_state_dict(*target, part, where);
  return static_cast<int64_t>(part.size());
}

void load_state_dict(torch::nn::Module& model, const core::NamedTensors& state, const std::string& where) {
  std::map<std::string, torch::Tensor> saved(state.begin(), state.end());
  torch::NoGradGuard no_grad;
  auto copy_into = [&](const std::string& name, torch::Tensor target) {
    auto it = saved.find(name);
    if (it == saved.end()) {
      throw Error("checkpoint has no entry '" + name + "'", where,
                  "it was written for a different model; check --backbone and --task");
    }
    if (it->second.sizes() != target.sizes()) {
      throw Error("entry '" + name + "' has shape " + c10::str(it->second.sizes()) + " but the model expects " +
                      c10::str(target.sizes()),
                  where, "it was written for a different model or dataset");
    }
    target.copy_(it->second.to(target.dtype()));
    saved.erase(it);
  };
  for (auto& item : model.named_parameters(true)) copy_into(item.key(), item.value());
  for (auto& item : model.named_buffers(true)) copy_into(item.key(), item.value());
  if (!saved.empty()) {
    throw Error("checkpoint has entries the model lacks, e.g. '" + saved.begin()->first + "'", where,
                "it was written for a different model; check --backbone and --task");
  }
}

}  // namespace strike::worker
