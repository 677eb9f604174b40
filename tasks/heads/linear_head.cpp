// The linear head and the head registry.
#include "tasks/heads/linear_head.h"

#include "tasks/nn/linear_stack.h"

#include <cmath>

namespace strike::tasks {

LinearHead::LinearHead(const HeadOptions& options) : dropout_(options.dropout) {
  weight_ = register_parameter("weight", torch::empty({options.out_features, options.in_features}));
  bias_ = register_parameter("bias", torch::empty({options.out_features}));
  // nn.Linear's default initialisation (kaiming uniform with a = sqrt(5), bias within 1/sqrt(fan_in)).
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight_, std::sqrt(5.0));
  double bound = options.in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(options.in_features)) : 0.0;
  torch::nn::init::uniform_(bias_, -bound, bound);
}

torch::Tensor LinearHead::forward(torch::Tensor x) {
  if (dropout_ > 0) x = torch::dropout(x, dropout_, is_training());
  // One fused node on the CPU for small shapes (tasks/nn/linear_stack.h), torch::linear otherwise.
  return linear_stack(x, {weight_}, {bias_});
}

const Registry<HeadFactory>& heads() {
  static const Registry<HeadFactory> registry("head", {
      {"linear", "dropout (--dropout) then one fully connected layer",
       [](const HeadOptions& o) { return std::make_shared<LinearHead>(o); }},
  });
  return registry;
}

}  // namespace strike::tasks
