// k-nearest-neighbour evaluation of embeddings: accuracy of a similarity-weighted vote, and recall@1.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace strike::tasks {

struct KnnResult {
  double accuracy = 0;     // the top-k neighbours' similarity-weighted vote names the query's label
  double recall_at_1 = 0;  // the single nearest reference shares the query's label
  int64_t k = 0;
  int64_t queries = 0;
};

// `reference` [N, D] and `queries` [M, D] are unit-length embeddings (cosine similarity = dot product),
// labels int64 in [0, classes). Neighbours are the k most similar references; each votes for its label with
// weight exp(similarity / 0.07), the usual kNN monitor of self-supervised training. Works in blocks of
// queries, so memory is a block x N similarity matrix.
KnnResult knn_evaluate(const torch::Tensor& reference, const torch::Tensor& reference_labels, const torch::Tensor& queries,
                       const torch::Tensor& query_labels, int64_t k, int64_t classes);

}  // namespace strike::tasks
