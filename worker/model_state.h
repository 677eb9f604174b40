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

}  // namespace strike::worker
