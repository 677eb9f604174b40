// BagOfEmbeddings: one embedding lookup and a length-masked mean.
#include "tasks/backbones/bag_of_embeddings.h"

#include "core/error.h"

#include <cmath>

namespace strike::tasks {

BagOfEmbeddings::BagOfEmbeddings(const TextBackboneOptions& options, BagOfEmbeddingsOptions o) : options_(o) {
  require(options.vocab_size > 1, "bag_of_embeddings needs a vocabulary (the manifest's tokenizer has none)");
  require(o.dim > 0, "bag_of_embeddings: the embedding width must be positive");
  embedding_ = register_module(
      "embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(options.vocab_size, o.dim).padding_idx(options.pad_id)));
  // fastText's initialisation: uniform within 1/dim, so the mean of many tokens starts near zero
  // instead of N(0, 1) vectors that swamp the head at the first steps.
  torch::NoGradGuard no_grad;
  embedding_->weight.uniform_(-1.0 / o.dim, 1.0 / o.dim);
  embedding_->weight[options.pad_id].zero_();
}

torch::Tensor BagOfEmbeddings::forward(const torch::Tensor& tokens, const torch::Tensor& lengths) {
  return masked_mean(embedding_->forward(tokens), padding_mask(lengths, tokens.size(1)), lengths);
}

}  // namespace strike::tasks
