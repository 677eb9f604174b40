// ResNet-18/34/50 with torchvision's module names, so state_dict keys match torchvision's (minus fc.*).
#pragma once
#include "tasks/backbones/backbone.h"
#include "tasks/backbones/batch_norm.h"

namespace strike::tasks {

// Stems: "imagenet" = conv7x7 stride 2 + max-pool (torchvision); "small" = conv3x3 stride 1, no
// max-pool, which keeps 28-32 px images from shrinking to 1x1 before layer4; "auto" = small below 64 px.
class ResNet : public Backbone {
 public:
  // depth: 18, 34 or 50.
  ResNet(int depth, const BackboneOptions& options);
  torch::Tensor forward(torch::Tensor images) override;
  int64_t feature_dim() const override { return feature_dim_; }
  bool small_stem() const { return small_stem_; }

 private:
  torch::nn::Conv2d conv1_{nullptr};
  SyncableBatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
  bool small_stem_ = false;
  int64_t feature_dim_ = 0;
};

}  // namespace strike::tasks
