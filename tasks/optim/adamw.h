// adamw: Adam with decoupled weight decay and bias correction, as torch.optim.AdamW.
#pragma once
#include "tasks/optim/optimizer.h"

namespace strike::tasks {

class AdamW : public Optimizer {
 public:
  AdamW(const OptimizerOptions& options, FlatParameters& params);
  std::string name() const override { return "adamw"; }
  void step(double lr) override;
  core::NamedTensors state() const override;  // "exp_avg" [N], "exp_avg_sq" [N], "step" [1]
  void load_state(const core::NamedTensors& state) override;
  nlohmann::json meta() const override;
  int64_t steps() const override { return steps_; }

 private:
  OptimizerOptions options_;
  FlatParameters& params_;
  torch::Tensor exp_avg_, exp_avg_sq_, denom_;  // denom_: scratch of the non-CPU path, reused every step
  int64_t steps_ = 0;
};

}  // namespace strike::tasks
