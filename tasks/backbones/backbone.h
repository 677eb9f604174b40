// The Backbone interface (image -> feature vector) and the backbone registry.
#pragma once
#include "tasks/registry.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace strike::tasks {

// What every backbone is built from; filled from the dataset manifest and ModelOptions.
struct BackboneOptions {
  int64_t in_channels = 3;    // image channels C of [B, C, H, W] inputs
  int64_t image_size = 224;   // image side in pixels (the smaller of H and W)
  std::string stem = "auto";  // resnet stem: "imagenet", "small" or "auto" (small below 64 px)
};

// A module mapping float32 images [B, C, H, W] to features [B, feature_dim()].
class Backbone : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor images) = 0;
  virtual int64_t feature_dim() const = 0;
};

using BackboneFactory = std::function<std::shared_ptr<Backbone>(const BackboneOptions&)>;

// small_cnn, resnet18, resnet34, resnet50.
const Registry<BackboneFactory>& backbones();

}  // namespace strike::tasks
