// FlatParameters: a module's trainable parameters and their gradients as views into two flat buffers.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace strike::tasks {

// Rebinds every parameter (requires_grad, defined) of a module to a slice of one contiguous float32
// buffer, and pre-assigns each parameter's .grad() to a slice of a second buffer, so autograd
// accumulates into it in place. Optimizers then update the whole model with a handful of tensor ops,
// and gradient all-reduce sends one buffer (later: a few buckets) instead of one message per tensor.
//
// Keep the parameters' identity: load weights with copy_() (not set_data()), and clear gradients
// with zero_grad() here, never Module::zero_grad() (which would drop the views).
class FlatParameters {
 public:
  // Where one parameter lives in the flat buffers.
  struct Slot {
    std::string name;            // state_dict key, e.g. "backbone.conv1.weight"
    int64_t offset = 0;          // first element in the flat buffers
    int64_t numel = 0;           // elements
    std::vector<int64_t> shape;  // the parameter's shape
    bool decay = true;           // weight decay applies (false for 1-D tensors: biases and norm weights)
  };

  // All parameters must share one device; they become float32.
  explicit FlatParameters(torch::nn::Module& module);
  FlatParameters(const FlatParameters&) = delete;
  FlatParameters& operator=(const FlatParameters&) = delete;

  torch::Tensor& values() { return values_; }  // float32 [numel()], the parameters' storage
  torch::Tensor& grads() { return grads_; }    // float32 [numel()], the gradients' storage
  const torch::Tensor& values() const { return values_; }
  const torch::Tensor& grads() const { return grads_; }
  // float32 [numel()]: 1 where weight decay applies, 0 elsewhere.
  const torch::Tensor& decay_mask() const { return decay_mask_; }
  const std::vector<Slot>& slots() const { return slots_; }
  // The module's parameter tensors, in slot order (gradient hooks attach to them).
  const std::vector<torch::Tensor>& parameters() const { return params_; }
  int64_t numel() const { return values_.numel(); }

  // Zeroes the gradient buffer in place (the per-parameter .grad() views stay bound); on the CPU a
  // plain memset, without a dispatched op.
  void zero_grad();

 private:
  torch::Tensor values_, grads_, decay_mask_;
  std::vector<Slot> slots_;
  std::vector<torch::Tensor> params_;
};

}  // namespace strike::tasks
