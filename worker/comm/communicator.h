// Communicator: how ranks agree on tensors. Local now; MPI and NCCL implement the same interface.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace strike::worker {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks on this host and this rank's index among them (device choice, thread count).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // In-place sum over all ranks.
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;
  // In-place copy of `root`'s tensor to every rank.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  // Concatenation along dim 0 of every rank's tensor (same shape on every rank).
  virtual torch::Tensor all_gather(const torch::Tensor& tensor) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job with `code`; used when one rank cannot go on.
  [[noreturn]] virtual void abort(int code, const std::string& reason) = 0;
  // "local", "mpi" or "nccl".
  virtual std::string backend() const = 0;
};

// One rank, no peers: every collective is the identity.
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void all_reduce_sum(torch::Tensor&) override {}
  void broadcast(torch::Tensor&, int) override {}
  torch::Tensor all_gather(const torch::Tensor& tensor) override { return tensor.clone(); }
  void barrier() override {}
  [[noreturn]] void abort(int code, const std::string& reason) override;
  std::string backend() const override { return "local"; }
};

}  // namespace strike::worker
