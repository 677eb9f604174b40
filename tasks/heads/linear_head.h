// linear: optional dropout, then one fully connected layer.
#pragma once
#include "tasks/heads/head.h"

namespace strike::tasks {

// Parameters are `weight` [out, in] and `bias` [out] directly on the head (no child module), so the
// checkpoint keys head.weight/head.bias line up with torchvision's fc.weight/fc.bias.
class LinearHead : public Head {
 public:
  explicit LinearHead(const HeadOptions& options);
  torch::Tensor forward(torch::Tensor features) override;

 private:
  torch::Tensor weight_, bias_;
  double dropout_ = 0.0;
};

}  // namespace strike::tasks
