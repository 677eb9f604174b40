// MpiCommunicator: collectives on CPU tensors over MPI (the only file pair that sees mpi.h is its .cpp).
#pragma once
#include <memory>
#include <string>

#include "worker/comm/communicator.h"

namespace strike::worker {

class MpiCommunicator final : public Communicator {
 public:
  // Initializes MPI (thread level "serialized": autograd hooks may issue collectives from the
  // engine's thread, never two threads at once) and finds this rank's place on its host.
  MpiCommunicator(int* argc, char*** argv);
  ~MpiCommunicator() override;  // finalizes MPI
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  void all_reduce_sum(torch::Tensor& tensor) override;
  std::unique_ptr<PendingReduce> all_reduce_sum_async(torch::Tensor tensor) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  torch::Tensor all_gather(const torch::Tensor& tensor) override;
  void barrier() override;
  [[noreturn]] void abort(int code, const std::string& reason) override;
  std::string backend() const override { return "mpi"; }

 private:
  struct Handles;  // MPI communicators, datatypes and ops, kept out of this header
  std::unique_ptr<Handles> mpi_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

}  // namespace strike::worker
