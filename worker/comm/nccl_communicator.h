// NcclCommunicator: NCCL collectives for CUDA tensors, the wrapped (MPI or local) communicator for the rest.
// Built only with -DSTRIKE_WITH_CUDA=ON; only its .cpp sees nccl.h and cuda_runtime.h.
#pragma once
#include <memory>
#include <string>

#include "worker/comm/communicator.h"

namespace strike::worker {

// Ranks, sizes and host placement come from the wrapped communicator, which also carries NCCL's
// unique id from rank 0 to the others and every collective on CPU tensors. Collectives on CUDA
// tensors go through NCCL on this rank's GPU (local_rank % visible devices, the device the trainer
// picks too) and are stream-ordered, as in PyTorch: the blocking calls enqueue on the tensor's current
// CUDA stream and return without waiting for the GPU; later work on that stream sees the result.
//
// Unlike MpiCommunicator, bf16 and fp16 sums run in NCCL's native types (each step of NCCL's ring
// rounds to the 2-byte type), so with more than two ranks they may differ from a float32 sum in the
// last bit.
class NcclCommunicator final : public Communicator {
 public:
  // Picks and sets the device, makes the NCCL communicator (ncclCommInitRank: a collective over all
  // ranks of `host`). Throws Error naming the call, rank and likely cause when that fails.
  explicit NcclCommunicator(std::unique_ptr<Communicator> host);
  // Destroys the NCCL communicator (aborts it instead when it reported an error or an exception is
  // unwinding), then the wrapped communicator.
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  int local_rank() const override { return host_->local_rank(); }
  int local_size() const override { return host_->local_size(); }
  void all_reduce_sum(torch::Tensor& tensor) override;
  // CUDA tensors: the sum runs on a dedicated NCCL stream that first waits for the work already queued
  // on the tensor's current stream. test() asks whether it has finished without blocking; wait()
  // makes the current stream wait for it (no host synchronization). The tensor's memory is kept from
  // reuse until the sum is done.
  std::unique_ptr<PendingReduce> all_reduce_sum_async(torch::Tensor tensor) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  torch::Tensor all_gather(const torch::Tensor& tensor) override;
  // Waits for this rank's queued GPU work (watching for NCCL errors instead of hanging on a dead
  // peer), then for every rank on the host communicator.
  void barrier() override;
  // Aborts the NCCL communicator (so no kernel waits on a peer forever), then the wrapped one.
  [[noreturn]] void abort(int code, const std::string& reason) override;
  std::string backend() const override { return "nccl"; }

  // The CUDA device index NCCL runs on.
  int device_index() const { return device_; }
  // The wrapped communicator (CPU collectives).
  Communicator& host() { return *host_; }

 private:
  struct State;  // the NCCL communicator and stream, kept out of this header
  std::unique_ptr<Communicator> host_;  // declared first: destroyed after the NCCL state
  std::unique_ptr<State> nccl_;
  int device_ = 0;
};

}  // namespace strike::worker
