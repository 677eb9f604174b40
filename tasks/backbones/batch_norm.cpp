// Synchronized batch norm: one all-reduce of [sum, sum of squares, count] forward, one of
// [sum dy, sum dy*(x-mean)] backward, the scheme of PyTorch's SyncBatchNorm with sums in place of
// gathered per-rank means.
#include "tasks/backbones/batch_norm.h"

#include <torch/custom_class.h>

#include "core/compat.h"
#include "core/error.h"

// See core/compat.h: on LibTorch 1.x this symbol, needed by the construction vtables of any class
// derived from BatchNorm2dImpl (Module is a virtual base), is not exported. Prints what torch's does.
#if STRIKE_DEFINE_BATCHNORM2D_PRETTY_PRINT
namespace torch::nn {
template <>
void BatchNormImplBase<2, BatchNorm2dImpl>::pretty_print(std::ostream& stream) const {
  stream << std::boolalpha << "torch::nn::BatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=";
  if (options.momentum()) stream << *options.momentum();
  else stream << "None";
  stream << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats() << ")";
}
}  // namespace torch::nn
#endif

namespace strike::tasks {

namespace {

// Carries the reducer from forward to backward through AutogradContext::saved_data (IValues only).
struct ReducerHolder : torch::CustomClassHolder {
  explicit ReducerHolder(SumReducer r) : reduce(std::move(r)) {}
  SumReducer reduce;
};
const auto kRegisterReducerHolder = torch::class_<ReducerHolder>("strike", "SyncBatchNormReducer");

// Statistics are accumulated in float32 for half-precision inputs, otherwise in the input's dtype.
c10::ScalarType accumulate_type(const torch::Tensor& t) {
  return t.scalar_type() == torch::kHalf || t.scalar_type() == torch::kBFloat16 ? torch::kFloat : t.scalar_type();
}

torch::Tensor per_channel(const torch::Tensor& v) { return v.view({1, -1, 1, 1}); }

// Outputs: normalized input (input's dtype), global batch mean and unbiased global variance (the
// last two non-differentiable, for the running statistics).
class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, torch::Tensor input,
                                                torch::Tensor weight, torch::Tensor bias, double eps,
                                                c10::intrusive_ptr<ReducerHolder> reducer) {
    // Autocast must not re-cast anything here: the precision is chosen explicitly.
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto acc = accumulate_type(input);
    const int64_t channels = input.size(1);
    const torch::Tensor x = input.to(acc);
    const double local_count = static_cast<double>(input.numel() / channels);

    torch::Tensor packed = torch::cat({x.sum({0, 2, 3}), x.square().sum({0, 2, 3}),
                                       torch::full({1}, local_count, x.options())});
    reducer->reduce(packed);  // the one forward all-reduce
    // The global count stays on the device (no host sync) unless this rank alone could not tell
    // that it exceeds 1.
    const torch::Tensor count = packed.slice(0, 2 * channels, 2 * channels + 1);
    if (local_count <= 1 && count.item<double>() <= 1) {
      throw UsageError("synchronized batch norm needs more than 1 value per channel over all ranks in training, got " +
                       std::to_string(count.item<int64_t>()) + " (input " + c10::str(input.sizes()) + ")",
                       "", "use a larger batch, or train without sync batch norm");
    }
    const torch::Tensor mean = packed.slice(0, 0, channels) / count;
    const torch::Tensor var = (packed.slice(0, channels, 2 * channels) / count - mean.square()).clamp_min(0);
    const torch::Tensor invstd = (var + eps).rsqrt();

    torch::Tensor scale = weight.defined() ? weight.to(acc) * invstd : invstd;
    torch::Tensor out = (x - per_channel(mean)) * per_channel(scale);
    if (bias.defined()) out += per_channel(bias.to(acc));
    out = out.to(input.scalar_type());

    const torch::Tensor unbiased_var = var * (count / (count - 1));
    ctx->save_for_backward({input, weight, mean, invstd, count});
    ctx->saved_data["reducer"] = c10::IValue(std::move(reducer));
    ctx->mark_non_differentiable({mean, unbiased_var});
    return {out, mean, unbiased_var};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& mean = saved[2];
    const torch::Tensor& invstd = saved[3];
    const torch::Tensor& count = saved[4];
    const auto acc = accumulate_type(input);
    const int64_t channels = input.size(1);

    torch::Tensor grad_input, grad_weight, grad_bias;
    const torch::Tensor& grad_out = grad_outputs[0];
    if (grad_out.defined()) {
      const torch::Tensor dy = grad_out.to(acc);
      const torch::Tensor xmu = input.to(acc) - per_channel(mean);
      const torch::Tensor sum_dy = dy.sum({0, 2, 3});
      const torch::Tensor sum_dy_xmu = (dy * xmu).sum({0, 2, 3});
      // Local sums: the data-parallel gradient average completes them across ranks.
      if (weight.defined() && ctx->needs_input_grad(1)) grad_weight = (sum_dy_xmu * invstd).to(weight.scalar_type());
      if (weight.defined() && ctx->needs_input_grad(2)) grad_bias = sum_dy.to(weight.scalar_type());
      if (ctx->needs_input_grad(0)) {
        torch::Tensor packed = torch::cat({sum_dy, sum_dy_xmu});
        ctx->saved_data["reducer"].toCustomClass<ReducerHolder>()->reduce(packed);  // the one backward all-reduce
        const torch::Tensor mean_dy = packed.slice(0, 0, channels) / count;
        const torch::Tensor mean_dy_xmu = packed.slice(0, channels, 2 * channels) / count;
        const torch::Tensor scale = weight.defined() ? invstd * weight.to(acc) : invstd;
        grad_input = (dy - per_channel(mean_dy) - xmu * per_channel(invstd.square() * mean_dy_xmu)) * per_channel(scale);
        grad_input = grad_input.to(input.scalar_type());
      }
    }
    return {grad_input, grad_weight, grad_bias, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void SyncableBatchNorm2dImpl::set_reducer(SumReducer reducer, int world_size) {
  require(world_size >= 1, "batch norm world size must be at least 1, got " + std::to_string(world_size));
  reducer_ = std::move(reducer);
  world_size_ = world_size;
}

torch::Tensor SyncableBatchNorm2dImpl::forward(const torch::Tensor& input) {
  if (!synchronized() || !is_training()) return torch::nn::BatchNorm2dImpl::forward(input);
  _check_input_dim(input);

  auto outputs = SyncBatchNormFunction::apply(input, weight, bias, options.eps(),
                                              c10::make_intrusive<ReducerHolder>(reducer_));
  if (options.track_running_stats()) {
    // torch's rules: count the batch, then exponential (momentum) or cumulative (momentum None) average.
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
    const double factor = options.momentum() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
    running_mean.mul_(1 - factor).add_(outputs[1].to(running_mean.scalar_type()), factor);
    running_var.mul_(1 - factor).add_(outputs[2].to(running_var.scalar_type()), factor);
  }
  return outputs[0];
}

std::shared_ptr<torch::nn::Module> SyncableBatchNorm2dImpl::clone(const c10::optional<torch::Device>& device) const {
  torch::NoGradGuard no_grad;
  auto copy = std::make_shared<SyncableBatchNorm2dImpl>(options);
  copy->train(is_training());
  copy->reducer_ = reducer_;
  copy->world_size_ = world_size_;
  auto copy_into = [&](const torch::OrderedDict<std::string, torch::Tensor>& from,
                       torch::OrderedDict<std::string, torch::Tensor> to) {
    for (const auto& item : from) {
      const torch::Tensor& t = item.value();
      if (!t.defined()) continue;
      to[item.key()].set_data(device && t.device() != *device ? t.to(*device) : t.clone());
    }
  };
  copy_into(named_parameters(/*recurse=*/false), copy->named_parameters(/*recurse=*/false));
  copy_into(named_buffers(/*recurse=*/false), copy->named_buffers(/*recurse=*/false));
  return copy;
}

void SyncableBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << std::boolalpha << "strike::tasks::SyncableBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=";
  if (options.momentum()) stream << *options.momentum();
  else stream << "None";
  stream << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats()
         << ", synchronized=" << synchronized() << ")";
}

int enable_sync_batchnorm(torch::nn::Module& model, SumReducer reducer, int world_size) {
  int count = 0;
  auto visit = [&](torch::nn::Module& module) {
    if (auto* bn = dynamic_cast<SyncableBatchNorm2dImpl*>(&module)) {
      bn->set_reducer(reducer, world_size);
      ++count;
    }
  };
  visit(model);  // modules(include_self) would need `model` to be owned by a shared_ptr
  for (const auto& module : model.modules(/*include_self=*/false)) visit(*module);
  return count;
}

}  // namespace strike::tasks
