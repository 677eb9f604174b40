// The optimizer registry and gradient clipping on the flat gradient buffer.
#include "tasks/optim/optimizer.h"

#include "tasks/optim/adamw.h"
#include "tasks/optim/sgd.h"

namespace strike::tasks {

const Registry<OptimizerFactory>& optimizers() {
  static const Registry<OptimizerFactory> registry("optimizer", {
      {"sgd", "SGD with momentum (--momentum), optional Nesterov, L2 weight decay (PyTorch semantics)",
       [](const OptimizerOptions& o, FlatParameters& p) -> std::unique_ptr<Optimizer> {
         return std::make_unique<Sgd>(o, p);
       }},
      {"adamw", "AdamW: Adam with decoupled weight decay and bias correction (PyTorch semantics)",
       [](const OptimizerOptions& o, FlatParameters& p) -> std::unique_ptr<Optimizer> {
         return std::make_unique<AdamW>(o, p);
       }},
  });
  return registry;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, FlatParameters& params) {
  return optimizers().create(options.name, options, params);
}

double clip_grad_norm(FlatParameters& params, double max_norm) {
  torch::NoGradGuard no_grad;
  double norm = params.grads().norm().item<double>();
  double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) params.grads().mul_(coef);
  return norm;
}

}  // namespace strike::tasks
