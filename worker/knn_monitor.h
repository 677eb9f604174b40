// kNN metrics while an embedding model trains: the train split's embeddings as the neighbours of val/test's.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "worker/comm/communicator.h"
#include "worker/loader/loader.h"

namespace strike::worker {

// The metrics KnnMonitor adds, beside a task's own.
inline const std::vector<std::string> kKnnMetrics = {"knn_top1", "recall_at_1"};

// Rows of every rank's `local` [n_r, D] in rank order, on every rank; the ranks may hold different row counts.
torch::Tensor gather_rows(Communicator& comm, const torch::Tensor& local);

// Every rank embeds its part of the reference split and the parts are gathered on every rank; each rank
// scores its own queries and the hits are summed over the ranks, so 1 or N ranks give the one-process
// kNN of the whole split (tasks::knn_evaluate).
class KnnMonitor {
 public:
  // `reference`: the train split, unshuffled and unaugmented, sharded like the other loaders.
  KnnMonitor(DataLoader& reference, int64_t k, int64_t classes) : reference_(reference), k_(k), classes_(classes) {}

  // Adds "knn_top1" and "recall_at_1" to `values` for this rank's query embeddings and labels; `embed`
  // gives a reference batch's embeddings (the model in eval mode, under no_grad, as for the queries).
  // Collective: every rank calls it.
  void score(const std::function<torch::Tensor(Batch&)>& embed, Communicator& comm, torch::Device device,
             const std::vector<torch::Tensor>& embeddings, const std::vector<torch::Tensor>& labels,
             std::map<std::string, double>& values);

 private:
  DataLoader& reference_;
  int64_t k_, classes_;
};

}  // namespace strike::worker
