// Helpers for optimizers saving and restoring their state tensors.
#pragma once
#include "core/checkpoint.h"
#include "core/error.h"

#include <torch/torch.h>

#include <string>

namespace strike::tasks::state_io {

// The step counter as a 1-element int64 tensor (the checkpoint format stores no 0-d tensors).
inline torch::Tensor step_tensor(int64_t step) { return torch::full({1}, step, torch::kInt64); }

// Copies the tensor called `name` from `state` into `dest` (same element count required).
inline void restore(const core::NamedTensors& state, const std::string& optimizer, const std::string& name,
                    torch::Tensor& dest) {
  for (const auto& [key, tensor] : state) {
    if (key != name) continue;
    if (tensor.numel() != dest.numel()) {
      throw Error(optimizer + " state '" + name + "' has " + std::to_string(tensor.numel()) + " elements, the model " +
                      std::to_string(dest.numel()),
                  "optimizer state", "resume with the same model and optimizer options");
    }
    torch::NoGradGuard no_grad;
    dest.copy_(tensor.reshape(dest.sizes()));
    return;
  }
  throw Error(optimizer + " state has no '" + name + "'", "optimizer state",
              "the checkpoint was written with another optimizer; resume with the same --optimizer");
}

// The step counter saved by step_tensor().
inline int64_t restore_step(const core::NamedTensors& state, const std::string& optimizer) {
  torch::Tensor step = torch::zeros({1}, torch::kInt64);
  restore(state, optimizer, "step", step);
  return step.item<int64_t>();
}

}  // namespace strike::tasks::state_io
