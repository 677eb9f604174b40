// Bucket layout, gradient-ready hooks and the in-order bucket all-reduce.
#include "worker/comm/gradient_sync.h"

#include <torch/csrc/autograd/utils/lambda_post_hook.h>

#include "core/error.h"

namespace strike::worker {

namespace {

torch::ScalarType wire_dtype(const std::string& compression) {
  if (compression == "none") return torch::kFloat32;
  if (compression == "bf16") return torch::kBFloat16;
  if (compression == "fp16") return torch::kFloat16;
  throw UsageError("unknown gradient compression '" + compression + "'", "", "choose none, bf16 or fp16");
}

int64_t mb_to_floats(double mb) { return std::max<int64_t>(1, static_cast<int64_t>(mb * (1 << 20) / 4)); }

}  // namespace

GradientSync::GradientSync(tasks::FlatParameters& params, Communicator& comm, const GradientSyncOptions& options)
    : params_(params), comm_(comm) {
  require(options.bucket_mb > 0 && options.first_bucket_mb > 0, "--bucket-mb and --first-bucket-mb must be positive");
  const torch::ScalarType wire = wire_dtype(options.compression);
  const auto& slots = params_.slots();
  bucket_of_slot_.assign(slots.size(), 0);
  int64_t cap = mb_to_floats(options.first_bucket_mb);
  // Slots are in forward order; buckets take them from the end, so bucket 0 holds the last layers.
  for (size_t i = slots.size(); i-- > 0;) {
    if (buckets_.empty() || buckets_.back().numel >= cap) {
      if (!buckets_.empty()) cap = mb_to_floats(options.bucket_mb);
      buckets_.push_back({});
    }
    Bucket& b = buckets_.back();
    b.offset = slots[i].offset;  // slots are contiguous and taken backwards, so the range grows down
    b.numel += slots[i].numel;
    b.slots.push_back(i);
    bucket_of_slot_[i] = buckets_.size() - 1;
  }
  if (comm_.size() == 1) return;  // nothing to exchange: no hooks, no extra memory
  for (const Bucket& b : buckets_) {
    bucket_grads_.push_back(params_.grads().narrow(0, b.offset, b.numel));
    wire_.push_back(wire == torch::kFloat32 ? torch::Tensor()
                                            : torch::empty({b.numel}, params_.grads().options().dtype(wire)));
  }
  inflight_.resize(buckets_.size());
  pending_.assign(buckets_.size(), 0);
  const auto& tensors = params_.parameters();
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto accumulator = torch::autograd::impl::grad_accumulator(tensors[i]);
    require(accumulator != nullptr, "parameter '" + slots[i].name + "' has no gradient accumulator");
    accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          on_gradient_ready(i);
          return outputs;
        }));
    accumulators_.push_back(std::move(accumulator));
  }
}

void GradientSync::prepare(bool sync) {
  active_ = sync && comm_.size() > 1;
  if (!active_) return;
  next_launch_ = 0;
  next_complete_ = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    pending_[b] = static_cast<int64_t>(buckets_[b].slots.size());
    inflight_[b].reset();
  }
}

void GradientSync::on_gradient_ready(size_t slot) {
  if (!active_) return;
  --pending_[bucket_of_slot_[slot]];
  launch_ready_buckets();
  // Lets the transport move the launched buckets' bytes while backward goes on, and finishes the
  // ones that are done.
  while (next_complete_ < next_launch_ && inflight_[next_complete_]->test()) complete(next_complete_++);
}

void GradientSync::complete(size_t b) {
  inflight_[b].reset();
  if (wire_[b].defined()) bucket_grads_[b].copy_(wire_[b]);
}

void GradientSync::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && pending_[next_launch_] <= 0) launch(next_launch_++);
}

void GradientSync::launch(size_t b) {
  if (wire_[b].defined()) {
    wire_[b].copy_(bucket_grads_[b]);
    inflight_[b] = comm_.all_reduce_sum_async(wire_[b]);
  } else {
    inflight_[b] = comm_.all_reduce_sum_async(bucket_grads_[b]);
  }
}

void GradientSync::finish() {
  if (!active_) return;
  active_ = false;
  // Parameters that took no part in this backward never fired their hooks: their (zero) gradients
  // are reduced now, still in bucket order.
  while (next_launch_ < buckets_.size()) launch(next_launch_++);
  for (; next_complete_ < buckets_.size(); ++next_complete_) {
    inflight_[next_complete_]->wait();
    complete(next_complete_);
  }
}

}  // namespace strike::worker
