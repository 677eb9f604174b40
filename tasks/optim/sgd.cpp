// sgd's fused update over the flat buffer.
#include "tasks/optim/sgd.h"

#include "tasks/optim/state_io.h"
#include "tasks/optim/update_kernels.h"

#include <ATen/Parallel.h>

namespace strike::tasks {

Sgd::Sgd(const OptimizerOptions& options, FlatParameters& params) : options_(options), params_(params) {
  require(options.momentum >= 0 && options.momentum < 1, "sgd momentum must lie in [0, 1)");
  require(!options.nesterov || options.momentum > 0, "sgd Nesterov momentum needs --momentum > 0");
  // With dampening 0, PyTorch's first step (buffer = gradient) equals momentum * 0 + gradient.
  if (options.momentum > 0) momentum_buffer_ = torch::zeros_like(params.values());
}

void Sgd::step(double lr) {
  torch::NoGradGuard no_grad;
  torch::Tensor& p = params_.values();
  if (p.device().is_cpu()) {
    // One pass over the buffers (split across LibTorch's threads when large) instead of up to four tensor ops.
    kernels::SgdScalars s;
    s.weight_decay = static_cast<float>(options_.weight_decay);
    s.momentum = static_cast<float>(options_.momentum);
    s.nesterov = options_.nesterov;
    s.neg_lr = static_cast<float>(-lr);
    float* pp = p.data_ptr<float>();
    const float* gp = params_.grads().data_ptr<float>();
    float* buf = momentum_buffer_.defined() ? momentum_buffer_.data_ptr<float>() : nullptr;
    const float* mask = options_.weight_decay != 0 ? params_.decay_mask().data_ptr<float>() : nullptr;
    at::parallel_for(0, p.numel(), kCpuGrain, [&](int64_t begin, int64_t end) {
      kernels::sgd_update(end - begin, pp + begin, gp + begin, buf ? buf + begin : nullptr,
                          mask ? mask + begin : nullptr, s);
    });
    ++steps_;
    return;
  }
  // d = g + wd * mask * p, out of place: the gradient buffer stays what backward produced.
  torch::Tensor d = options_.weight_decay != 0 ? torch::addcmul(params_.grads(), params_.decay_mask(), p, options_.weight_decay)
                                               : params_.grads();
  if (momentum_buffer_.defined()) {
    momentum_buffer_.mul_(options_.momentum).add_(d);
    d = options_.nesterov ? d.add(momentum_buffer_, options_.momentum) : momentum_buffer_;
  }
  p.add_(d, -lr);
  ++steps_;
}

core::NamedTensors Sgd::state() const {
  core::NamedTensors out;
  if (momentum_buffer_.defined()) out.emplace_back("momentum_buffer", momentum_buffer_);
  out.emplace_back("step", state_io::step_tensor(steps_));
  return out;
}

void Sgd::load_state(const core::NamedTensors& state) {
  if (momentum_buffer_.defined()) state_io::restore(state, "sgd", "momentum_buffer", momentum_buffer_);
  steps_ = state_io::restore_step(state, "sgd");
}

nlohmann::json Sgd::meta() const {
  return {{"name", "sgd"},          {"step", steps_},
          {"lr", options_.lr},      {"momentum", options_.momentum},
          {"nesterov", options_.nesterov}, {"weight_decay", options_.weight_decay}};
}

}  // namespace strike::tasks
