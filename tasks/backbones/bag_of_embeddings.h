// bag_of_embeddings: a document is the mean of its token embeddings (fastText's architecture, Joulin et al., 2017).
#pragma once
#include "tasks/backbones/text_backbone.h"

namespace strike::tasks {

struct BagOfEmbeddingsOptions {
  int64_t dim = 64;  // embedding width = feature width
};

// The pad id's row stays zero and gets no gradient. Features: the mean embedding of a row's tokens;
// the head on top makes it the linear classifier fastText trains.
class BagOfEmbeddings : public TextBackbone {
 public:
  explicit BagOfEmbeddings(const TextBackboneOptions& options, BagOfEmbeddingsOptions o = {});
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& lengths) override;
  int64_t feature_dim() const override { return options_.dim; }

 private:
  BagOfEmbeddingsOptions options_;
  torch::nn::Embedding embedding_{nullptr};
};

}  // namespace strike::tasks
