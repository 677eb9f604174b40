// KnnMonitor: reference embeddings gathered over ranks, local queries scored, hit counts summed.
#include "worker/knn_monitor.h"

#include <cmath>

#include "tasks/knn.h"

namespace strike::worker {

torch::Tensor gather_rows(Communicator& comm, const torch::Tensor& local) {
  // all_gather wants one shape on every rank: pad to the largest part, then drop the padding.
  auto counts = torch::zeros({comm.size()}, torch::kFloat64);
  counts[comm.rank()] = static_cast<double>(local.size(0));
  comm.all_reduce_sum(counts);
  const int64_t most = static_cast<int64_t>(counts.max().item<double>());
  auto padded = torch::zeros({most, local.size(1)}, local.options());
  padded.narrow(0, 0, local.size(0)).copy_(local);
  const torch::Tensor all = comm.all_gather(padded);
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < comm.size(); ++r) {
    parts.push_back(all.narrow(0, r * most, static_cast<int64_t>(counts[r].item<double>())));
  }
  return torch::cat(parts);
}

void KnnMonitor::score(const std::function<torch::Tensor(Batch&)>& embed, Communicator& comm, torch::Device device,
                       const std::vector<torch::Tensor>& embeddings, const std::vector<torch::Tensor>& labels,
                       std::map<std::string, double>& values) {
  // Scored in float32 outside any autocast, like `strike eval`. Labels travel as a float column beside
  // the embedding (exact below 2^24 classes): one gather, not two.
  auto with_labels = [](const torch::Tensor& e, const torch::Tensor& l) {
    return torch::cat({e.to(torch::kCPU, torch::kFloat32), l.to(torch::kCPU, torch::kFloat32).unsqueeze(1)}, 1);
  };
  std::vector<torch::Tensor> mine;
  reference_.start_epoch(0);
  Batch batch;
  while (reference_.next(batch)) {
    if (batch.size == 0) continue;
    mine.push_back(with_labels(embed(batch), batch.at("label")));
  }
  // A rank with no reference rows still needs the width of everyone else's (all_gather wants one shape).
  auto widths = torch::zeros({comm.size()}, torch::kFloat64);
  widths[comm.rank()] = mine.empty() ? 0.0 : static_cast<double>(mine.front().size(1));
  comm.all_reduce_sum(widths);
  const int64_t width = static_cast<int64_t>(widths.max().item<double>());
  torch::Tensor local = mine.empty() ? torch::zeros({0, width}) : torch::cat(mine);
  torch::Tensor reference = gather_rows(comm, local).to(device);
  const int64_t d = reference.size(1) - 1;

  double hits_knn = 0, hits_nearest = 0, queries = 0;
  if (!embeddings.empty()) {
    torch::Tensor q = torch::cat(embeddings).to(device, torch::kFloat32);
    torch::Tensor q_labels = torch::cat(labels).to(device, torch::kLong);
    tasks::KnnResult r = tasks::knn_evaluate(reference.narrow(1, 0, d), reference.select(1, d).to(torch::kLong), q,
                                             q_labels, k_, classes_);
    queries = static_cast<double>(r.queries);
    hits_knn = std::round(r.accuracy * queries);
    hits_nearest = std::round(r.recall_at_1 * queries);
  }
  auto sums = torch::tensor({hits_knn, hits_nearest, queries}, torch::kFloat64);
  comm.all_reduce_sum(sums);
  const double total = std::max(sums[2].item<double>(), 1.0);
  values["knn_top1"] = sums[0].item<double>() / total;
  values["recall_at_1"] = sums[1].item<double>() / total;
}

}  // namespace strike::worker
