// knn_evaluate: blocked similarity, top-k, weighted votes.
#include "tasks/knn.h"

#include <algorithm>

#include "core/error.h"

namespace strike::tasks {

KnnResult knn_evaluate(const torch::Tensor& reference, const torch::Tensor& reference_labels, const torch::Tensor& queries,
                       const torch::Tensor& query_labels, int64_t k, int64_t classes) {
  require(reference.dim() == 2 && queries.dim() == 2 && reference.size(1) == queries.size(1),
          "kNN needs reference and query embeddings of the same width");
  require(reference.size(0) > 0 && reference.size(0) == reference_labels.size(0), "kNN needs labelled references");
  require(queries.size(0) == query_labels.size(0), "kNN needs a label for every query");
  require(k > 0 && classes > 0, "kNN needs k > 0 and at least one class");
  torch::NoGradGuard no_grad;
  const int64_t kk = std::min(k, reference.size(0));
  const torch::Tensor ref = reference.to(torch::kFloat32);
  const torch::Tensor ref_labels = reference_labels.to(torch::kInt64);
  const torch::Tensor labels = query_labels.to(torch::kInt64);
  double right = 0, first_right = 0;
  constexpr int64_t kBlock = 1024;
  for (int64_t start = 0; start < queries.size(0); start += kBlock) {
    const int64_t n = std::min(kBlock, queries.size(0) - start);
    const torch::Tensor sim = torch::matmul(queries.narrow(0, start, n).to(torch::kFloat32), ref.t());
    auto [top, index] = sim.topk(kk, 1);
    const torch::Tensor neighbour_labels = ref_labels.index_select(0, index.reshape(-1)).view({n, kk});
    const torch::Tensor votes = torch::zeros({n, classes}).scatter_add_(1, neighbour_labels, (top / 0.07).exp());
    const torch::Tensor truth = labels.narrow(0, start, n);
    right += votes.argmax(1).eq(truth).sum().item<double>();
    first_right += neighbour_labels.select(1, 0).eq(truth).sum().item<double>();
  }
  KnnResult r;
  r.k = kk;
  r.queries = queries.size(0);
  r.accuracy = r.queries > 0 ? right / static_cast<double>(r.queries) : 0.0;
  r.recall_at_1 = r.queries > 0 ? first_right / static_cast<double>(r.queries) : 0.0;
  return r;
}

}  // namespace strike::tasks
