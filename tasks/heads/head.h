// The Head interface (features -> task outputs) and the head registry.
#pragma once
#include "tasks/registry.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace strike::tasks {

// What every head is built from.
struct HeadOptions {
  int64_t in_features = 0;   // the backbone's feature_dim()
  int64_t out_features = 0;  // e.g. the number of classes
  double dropout = 0.0;      // dropout probability before the head's first layer (0: none)
};

// A module mapping features [B, in_features] to outputs [B, out_features].
class Head : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor features) = 0;
};

using HeadFactory = std::function<std::shared_ptr<Head>(const HeadOptions&)>;

// linear.
const Registry<HeadFactory>& heads();

}  // namespace strike::tasks
