// adamw's fused update over the flat buffer.
#include "tasks/optim/adamw.h"

#include "tasks/optim/state_io.h"
#include "tasks/optim/update_kernels.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace strike::tasks {

AdamW::AdamW(const OptimizerOptions& options, FlatParameters& params)
    : options_(options),
      params_(params),
      exp_avg_(torch::zeros_like(params.values())),
      exp_avg_sq_(torch::zeros_like(params.values())),
      denom_(params.values().device().is_cpu() ? torch::Tensor() : torch::empty_like(params.values())) {
  require(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
          "adamw betas must lie in [0, 1)");
  require(options.eps > 0, "adamw eps must be positive");
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  torch::Tensor& p = params_.values();
  const torch::Tensor& g = params_.grads();
  double b1 = options_.beta1, b2 = options_.beta2;
  ++steps_;
  double bias_correction1 = 1 - std::pow(b1, static_cast<double>(steps_));
  double bias_correction2 = 1 - std::pow(b2, static_cast<double>(steps_));
  if (p.device().is_cpu()) {
    // One pass over the buffers (split across LibTorch's threads when large) instead of nine tensor ops.
    kernels::AdamWScalars s;
    s.decay = static_cast<float>(-lr * options_.weight_decay);
    s.beta1 = static_cast<float>(b1);
    s.one_minus_beta1 = static_cast<float>(1 - b1);
    s.beta2 = static_cast<float>(b2);
    s.one_minus_beta2 = static_cast<float>(1 - b2);
    s.sqrt_bias_correction2 = static_cast<float>(std::sqrt(bias_correction2));
    s.eps = static_cast<float>(options_.eps);
    s.step_size = static_cast<float>(-lr / bias_correction1);
    float* pp = p.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    float* mp = exp_avg_.data_ptr<float>();
    float* vp = exp_avg_sq_.data_ptr<float>();
    const float* mask = options_.weight_decay != 0 ? params_.decay_mask().data_ptr<float>() : nullptr;
    at::parallel_for(0, p.numel(), kCpuGrain, [&](int64_t begin, int64_t end) {
      kernels::adamw_update(end - begin, pp + begin, gp + begin, mp + begin, vp + begin,
                            mask ? mask + begin : nullptr, s);
    });
    return;
  }
  // Decoupled decay p *= 1 - lr * wd, masked: p += (-lr * wd) * mask * p.
  if (options_.weight_decay != 0) p.addcmul_(params_.decay_mask(), p, -lr * options_.weight_decay);
  exp_avg_.mul_(b1).add_(g, 1 - b1);
  exp_avg_sq_.mul_(b2).addcmul_(g, g, 1 - b2);
  torch::sqrt_out(denom_, exp_avg_sq_).div_(std::sqrt(bias_correction2)).add_(options_.eps);
  p.addcdiv_(exp_avg_, denom_, -lr / bias_correction1);
}

core::NamedTensors AdamW::state() const {
  return {{"exp_avg", exp_avg_}, {"exp_avg_sq", exp_avg_sq_}, {"step", state_io::step_tensor(steps_)}};
}

void AdamW::load_state(const core::NamedTensors& state) {
  state_io::restore(state, "adamw", "exp_avg", exp_avg_);
  state_io::restore(state, "adamw", "exp_avg_sq", exp_avg_sq_);
  steps_ = state_io::restore_step(state, "adamw");
}

nlohmann::json AdamW::meta() const {
  return {{"name", "adamw"},         {"step", steps_},         {"lr", options_.lr},
          {"beta1", options_.beta1}, {"beta2", options_.beta2}, {"eps", options_.eps},
          {"weight_decay", options_.weight_decay}};
}

}  // namespace strike::tasks
