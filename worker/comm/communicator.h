// Communicator: how ranks agree on tensors. Local, MPI (CPU tensors) and NCCL (CUDA tensors) implement it.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "tasks/rank_peers.h"

namespace strike::worker {

// A collective in flight. Transports such as MPI only move bytes while the process calls into them,
// so the owner polls test() between pieces of work to keep it moving.
class PendingReduce {
 public:
  virtual ~PendingReduce() = default;
  // Drives progress without blocking; true once the result is in place.
  virtual bool test() = 0;
  // Blocks until the result is in place.
  virtual void wait() = 0;
};

// Supported tensors: contiguous, on the device the implementation serves, of dtype float32,
// float64, int64, bfloat16 or float16 (the last two are summed in float32 and rounded once).
// rank(), size(), all_reduce_sum() and all_gather() come from tasks::RankPeers, so a task's loss can span
// the ranks.
class Communicator : public tasks::RankPeers {
 public:
  // Ranks on this host and this rank's index among them (device choice, thread count).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // Starts an in-place sum over all ranks. Every rank must start collectives in the same order;
  // `tensor` must stay alive and untouched until the handle reports completion. An implementation
  // may finish before returning where that is faster (MPI on CPU does; NCCL runs on its own stream).
  virtual std::unique_ptr<PendingReduce> all_reduce_sum_async(torch::Tensor tensor) = 0;
  // In-place copy of `root`'s tensor to every rank.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job with `code`; used when one rank cannot go on.
  [[noreturn]] virtual void abort(int code, const std::string& reason) = 0;
  // "local", "mpi" or "nccl".
  virtual std::string backend() const = 0;
};

// A reduction that was complete when it started (one rank, or a blocking fallback).
class CompletedReduce final : public PendingReduce {
 public:
  bool test() override { return true; }
  void wait() override {}
};

// One rank, no peers: every collective is the identity.
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void all_reduce_sum(torch::Tensor&) override {}
  std::unique_ptr<PendingReduce> all_reduce_sum_async(torch::Tensor) override {
    return std::make_unique<CompletedReduce>();
  }
  void broadcast(torch::Tensor&, int) override {}
  torch::Tensor all_gather(const torch::Tensor& tensor) override { return tensor.clone(); }
  void barrier() override {}
  [[noreturn]] void abort(int code, const std::string& reason) override;
  std::string backend() const override { return "local"; }
};

// True when this process was started by an MPI launcher (mpirun, srun --mpi=pmix): its environment
// carries the launcher's rank variables.
bool launched_by_mpi();

// Throws a UsageError when srun started this process as one of N tasks but the job's world has
// another size: an MPI without PMIx support (or srun without --mpi=pmix) makes every task a
// world of one, which would otherwise train N separate models without a word.
void check_world_matches_slurm(int world_size);

// "strike-worker", or "strike-worker rank N" when an MPI launcher started it: the prefix of every
// error message, so the user knows which rank spoke.
std::string process_label();

// The communicator for this process: MPI when an MPI launcher started it, local otherwise.
// With `cuda` (ranks that train on GPUs) collectives on CUDA tensors go through NCCL, the rest through MPI.
std::unique_ptr<Communicator> make_communicator(int* argc, char*** argv, bool cuda);

}  // namespace strike::worker
