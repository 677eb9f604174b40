// RankPeers: the ranks of a data-parallel job as a task sees them, for a loss over the global batch.
#pragma once
#include <torch/torch.h>

namespace strike::tasks {

// The collectives a loss that spans every rank's batch needs (worker::Communicator provides them).
// Every rank must call them in the same order.
class RankPeers {
 public:
  virtual ~RankPeers() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In-place sum over all ranks.
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;
  // Concatenation along dim 0 of every rank's tensor (same shape on every rank), in rank order.
  virtual torch::Tensor all_gather(const torch::Tensor& tensor) = 0;
};

// all_gather with a gradient: every rank's gradient of the gathered tensor, summed over the ranks, then
// this rank's rows. With each rank's loss scaled by 1 / ranks and the parameter gradients summed over
// the ranks, as the trainer does, training then follows the gradient of the loss over the global batch.
torch::Tensor gather_with_grad(RankPeers& peers, const torch::Tensor& local);

}  // namespace strike::tasks
