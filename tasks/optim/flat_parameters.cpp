// Building the flat buffers and rebinding parameters and gradients onto them.
#include "tasks/optim/flat_parameters.h"

#include "core/error.h"

#include <cstring>

namespace strike::tasks {

FlatParameters::FlatParameters(torch::nn::Module& module) {
  std::vector<torch::Tensor>& params = params_;
  int64_t total = 0;
  torch::Device device = torch::kCPU;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    const torch::Tensor& p = item.value();
    if (!p.defined() || !p.requires_grad()) continue;
    if (params.empty()) device = p.device();
    if (p.device() != device) {
      throw Error("parameter '" + item.key() + "' is on " + p.device().str() + ", others on " + device.str(),
                  "FlatParameters", "move the whole model to one device before building the optimizer");
    }
    slots_.push_back({item.key(), total, p.numel(), p.sizes().vec(), p.dim() > 1});
    params.push_back(p);
    total += p.numel();
  }
  auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  values_ = torch::empty({total}, options);
  grads_ = torch::zeros({total}, options);
  decay_mask_ = torch::zeros({total}, options);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    const Slot& s = slots_[i];
    torch::Tensor& p = params[i];
    torch::Tensor value = values_.narrow(0, s.offset, s.numel).view(s.shape);
    value.copy_(p.detach());
    p.set_data(value);
    // A defined, correctly laid out .grad() makes AccumulateGrad add into it in place.
    p.mutable_grad() = grads_.narrow(0, s.offset, s.numel).view(s.shape);
    if (s.decay) decay_mask_.narrow(0, s.offset, s.numel).fill_(1);
  }
}

void FlatParameters::zero_grad() {
  if (grads_.device().is_cpu()) {
    // The buffer is one contiguous float32 allocation that nothing else records in a graph; bumping
    // the version keeps autograd's in-place checks as zero_() would.
    std::memset(grads_.data_ptr(), 0, grads_.nbytes());
    grads_.unsafeGetTensorImpl()->bump_version();
    return;
  }
  grads_.zero_();
}

}  // namespace strike::tasks
