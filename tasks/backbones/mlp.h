// mlp: Linear + ReLU layers over flattened inputs, the backbone of tabular-size models.
#pragma once
#include "tasks/backbones/backbone.h"

#include <cstdint>
#include <vector>

namespace strike::tasks {

// Flattens [B, ...] inputs to [B, in_features] and applies Linear(in, h_1), ReLU, ..., Linear(h_{n-1}, h_n),
// ReLU, so a Head follows. Layers are torch::nn::Linear children "fc1", "fc2", ... (nn.Linear's
// initialisation; checkpoint keys fc<i>.weight/.bias); forward runs them as one linear_stack
// (tasks/nn/linear_stack.h): one fused autograd node on the CPU for small shapes.
class MlpBackbone : public Backbone {
 public:
  MlpBackbone(int64_t in_features, std::vector<int64_t> hidden);
  torch::Tensor forward(torch::Tensor x) override;
  int64_t feature_dim() const override { return hidden_.back(); }

 private:
  std::vector<int64_t> hidden_;
  std::vector<torch::nn::Linear> layers_;
};

}  // namespace strike::tasks
