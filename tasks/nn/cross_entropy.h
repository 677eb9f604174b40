// Cross-entropy and top-k hit counts for classification, with one-pass CPU paths for small class counts.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace strike::tasks {

// Per-sample smoothed cross-entropy as PyTorch defines it: (1 - s) * nll + s * mean over classes of
// -log p. logits [B, C] (any float dtype, computed in float32), labels integer [B]. ATen ops.
torch::Tensor cross_entropy_per_sample(const torch::Tensor& logits, const torch::Tensor& labels,
                                       double label_smoothing);

// The batch mean of cross_entropy_per_sample, for backward. For float32 CPU logits with at most
// kFusedMaxClasses classes it is one pass over the logits and a single autograd node (instead of
// log_softmax, gather, neg, mean and their backward nodes); otherwise cross_entropy_per_sample(...).mean().
// Labels outside [0, C) are an Error.
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing);
constexpr int64_t kFusedMaxClasses = 64;

// Rows whose label is the top prediction (top1) and among the top k (topk). A label's rank is the
// number of classes with a larger logit, or an equal one at a smaller index (so ties resolve by
// index, deterministically); a NaN logit for the label is a miss. One pass on float32 CPU logits,
// ATen ops elsewhere.
struct TopkHits {
  int64_t top1 = 0;
  int64_t topk = 0;
};
TopkHits count_topk_hits(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k);

}  // namespace strike::tasks
