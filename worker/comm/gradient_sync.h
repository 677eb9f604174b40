// GradientSync: sums gradients over ranks in flat buckets, each reduced as soon as backward fills it.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "tasks/optim/flat_parameters.h"
#include "worker/comm/communicator.h"

namespace strike::worker {

struct GradientSyncOptions {
  double bucket_mb = 25.0;         // gradient bytes per all-reduce bucket (MiB of float32)
  double first_bucket_mb = 1.0;    // the first bucket (the last layers' gradients, ready first) is small so
                                   // communication starts early in backward
  std::string compression = "none";  // gradients on the wire: none (float32), bf16 or fp16
};

// Buckets are contiguous ranges of the flat gradient buffer, filled from the last parameter
// backwards (the order backward produces gradients). A hook on each parameter's gradient
// accumulator counts down its bucket; a full bucket's all-reduce starts at once, in bucket order on
// every rank (MPI requires one order), while backward computes the earlier layers' gradients.
// Without compression buckets are reduced in place: no copy of the gradients is made.
//
// The result is the SUM over ranks. Averaging is left to the loss: a rank that scales its loss by
// 1/world_size (its share of the global batch's mean loss) gets the average for free, where a
// division afterwards is one more pass over the gradients that cost 40-80% of the all-reduce's own
// time on 2 ranks (bench/RESULTS.md).
class GradientSync {
 public:
  GradientSync(tasks::FlatParameters& params, Communicator& comm, const GradientSyncOptions& options);
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Call before each backward: `sync` false skips communication (accumulation micro-steps).
  void prepare(bool sync);
  // After backward: starts buckets that never filled (unused parameters) and waits for all.
  // Gradients are then the sum over ranks, identical on every rank.
  void finish();

  struct Bucket {
    int64_t offset = 0, numel = 0;  // range in the flat gradient buffer
    std::vector<size_t> slots;      // parameters in it
  };
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  void on_gradient_ready(size_t slot);
  void launch_ready_buckets();
  void launch(size_t bucket);
  // Once bucket b's reduction is in: back to float32 if it travelled compressed.
  void complete(size_t bucket);

  tasks::FlatParameters& params_;
  Communicator& comm_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_slot_;
  // Per bucket: its range of the flat gradients, made once (a view costs microseconds per step, which
  // is 10-20% of a small bucket's all-reduce).
  std::vector<torch::Tensor> bucket_grads_;
  std::vector<torch::Tensor> wire_;              // per bucket: the compressed copy (compression only)
  std::vector<int64_t> pending_;                 // per bucket: parameters still to come this backward
  std::vector<std::unique_ptr<PendingReduce>> inflight_;  // per bucket, once launched
  size_t next_launch_ = 0;
  size_t next_complete_ = 0;
  bool active_ = false;
  // Keeps the gradient accumulators (where the hooks live) alive: a parameter only holds them weakly.
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
};

}  // namespace strike::worker
