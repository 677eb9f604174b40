// sgd: stochastic gradient descent with momentum, Nesterov and L2 weight decay, as torch.optim.SGD.
#pragma once
#include "tasks/optim/optimizer.h"

namespace strike::tasks {

class Sgd : public Optimizer {
 public:
  Sgd(const OptimizerOptions& options, FlatParameters& params);
  std::string name() const override { return "sgd"; }
  void step(double lr) override;
  core::NamedTensors state() const override;  // "momentum_buffer" [N], "step" [1]
  void load_state(const core::NamedTensors& state) override;
  nlohmann::json meta() const override;
  int64_t steps() const override { return steps_; }

 private:
  OptimizerOptions options_;
  FlatParameters& params_;
  torch::Tensor momentum_buffer_;  // undefined when momentum is 0
  int64_t steps_ = 0;
};

}  // namespace strike::tasks
