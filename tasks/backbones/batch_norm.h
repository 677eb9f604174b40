// Batch norm that can synchronize its batch statistics across data-parallel ranks (opt-in).
#pragma once
#include <functional>

#include <torch/torch.h>

namespace strike::tasks {

// In-place sum of `tensor` over all ranks; every rank gets the same result. The trainer passes
// its Communicator's all_reduce_sum (tasks must not depend on the worker).
using SumReducer = std::function<void(torch::Tensor&)>;

// torch::nn::BatchNorm2d with an optional reducer. Without one (or with world_size 1), and always
// in eval mode, forward is exactly torch's BatchNorm2d. In training with a reducer it is a
// synchronized batch norm: batch statistics over the global batch of all ranks, from ONE
// all-reduce of packed per-channel [sum, sum of squares, count] (float32 even for bf16/fp16 input;
// the output keeps the input's dtype); backward does ONE more all-reduce of [sum dy, sum dy*(x-mean)]
// for grad_input, while grad_weight/grad_bias stay local sums (the gradient average across ranks
// finishes them). Running statistics follow torch's rules with the global mean and unbiased
// variance, so they stay identical on all ranks.
// It derives from BatchNorm2dImpl: `module.as<torch::nn::BatchNorm2d>()` finds it and its state_dict
// keys are torch's (weight, bias, running_mean, running_var, num_batches_tracked).
class SyncableBatchNorm2dImpl : public torch::nn::BatchNorm2dImpl {
 public:
  explicit SyncableBatchNorm2dImpl(int64_t num_features)
      : SyncableBatchNorm2dImpl(torch::nn::BatchNormOptions(num_features)) {}
  explicit SyncableBatchNorm2dImpl(const torch::nn::BatchNormOptions& options)
      : torch::nn::BatchNorm2dImpl(options) {}

  // Sets (or, with an empty reducer, clears) the reduction over `world_size` ranks. The reducer is
  // called in forward and inside autograd's backward: every rank must run the same layers in the
  // same order so the collectives match.
  void set_reducer(SumReducer reducer, int world_size);
  // Whether forward in training mode synchronizes statistics.
  bool synchronized() const { return reducer_ && world_size_ > 1; }

  torch::Tensor forward(const torch::Tensor& input);

  // Keeps the type (and reducer) in copies; BatchNorm2dImpl's clone would return a plain BatchNorm2d.
  std::shared_ptr<torch::nn::Module> clone(const c10::optional<torch::Device>& device = c10::nullopt) const override;
  // Needed: libtorch does not export BatchNormImplBase<2>'s pretty_print to derived classes.
  void pretty_print(std::ostream& stream) const override;

 private:
  SumReducer reducer_;
  int world_size_ = 1;
};
TORCH_MODULE(SyncableBatchNorm2d);

// Sets `reducer` over `world_size` ranks on every SyncableBatchNorm2d in `model` (recursively);
// returns how many. Plain torch batch norms are left alone (not synchronized).
int enable_sync_batchnorm(torch::nn::Module& model, SumReducer reducer, int world_size);

}  // namespace strike::tasks
