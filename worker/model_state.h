// Moving a model's weights and buffers to and from checkpoint tensors, by state_dict name.
#pragma once
#include <torch/torch.h>

#include <string>

#include "core/checkpoint.h"

namespace strike::worker {

// Parameters then buffers, under their dotted state_dict names.
core::NamedTensors state_dict(const torch::nn::Module& model);

// Copies `state` into the model in place. Every model entry must be present with the same shape;
// `where` (the checkpoint path) goes into the error message.
void load_state_dict(torch::nn::Module& model, const core::NamedTensors& state, const std::string& where);

// Copies the entries under `prefix` (e.g. "backbone.") of `state` into the model's entries of the same name:
// one model's part starting another (a classifier's backbone for an embedder). Every model entry under the
// prefix must be there with the same shape; returns how many were copied.
int64_t load_prefixed(torch::nn::Module& model, const core::NamedTensors& state, const std::string& prefix,
                      const std::string& where);

}  // namespace strike::worker
