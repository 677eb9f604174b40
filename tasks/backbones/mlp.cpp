// The MLP backbone: nn::Linear children run as one fused Linear+ReLU stack.
#include "tasks/backbones/mlp.h"

#include "core/error.h"
#include "tasks/nn/linear_stack.h"

#include <string>

namespace strike::tasks {

MlpBackbone::MlpBackbone(int64_t in_features, std::vector<int64_t> hidden) : hidden_(std::move(hidden)) {
  require(in_features > 0, "the mlp backbone needs at least one input feature");
  require(!hidden_.empty(), "the mlp backbone needs at least one hidden layer");
  int64_t width = in_features;
  for (size_t i = 0; i < hidden_.size(); ++i) {
    require(hidden_[i] > 0, "mlp hidden layer sizes must be positive");
    layers_.push_back(register_module("fc" + std::to_string(i + 1), torch::nn::Linear(width, hidden_[i])));
    width = hidden_[i];
  }
}

torch::Tensor MlpBackbone::forward(torch::Tensor x) {
  std::vector<torch::Tensor> weights, biases;
  weights.reserve(layers_.size());
  biases.reserve(layers_.size());
  for (const auto& layer : layers_) {
    weights.push_back(layer->weight);
    biases.push_back(layer->bias);
  }
  return linear_stack(x.flatten(1), weights, biases, /*relu_last=*/true);
}

}  // namespace strike::tasks
