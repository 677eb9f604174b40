// Weight initialisation shared by the backbones: torchvision's ResNet rules.
#pragma once
#include <torch/torch.h>

namespace strike::tasks {

// Convolutions: kaiming normal (fan_out, ReLU); batch/group norms: weight 1, bias 0.
// Applied to every submodule of `module`, as torchvision's ResNet constructor does.
inline void init_like_torchvision(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  module.apply([](torch::nn::Module& m) {
    if (auto* conv = m.as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = m.as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  });
}

}  // namespace strike::tasks
