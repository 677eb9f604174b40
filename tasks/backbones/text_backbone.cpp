// The text backbone registry and the masking helpers every text backbone shares.
#include "tasks/backbones/text_backbone.h"

#include "tasks/backbones/bag_of_embeddings.h"
#include "tasks/backbones/text_transformer.h"

namespace strike::tasks {

torch::Tensor padding_mask(const torch::Tensor& lengths, int64_t width) {
  auto positions = torch::arange(width, lengths.options().dtype(torch::kInt64)).unsqueeze(0);
  return positions >= lengths.to(torch::kInt64).unsqueeze(1);
}

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& padding, const torch::Tensor& lengths) {
  auto kept = x.masked_fill(padding.unsqueeze(2), 0.0).sum(1);
  return kept / lengths.to(kept.scalar_type()).clamp_min(1).unsqueeze(1);
}

const Registry<TextBackboneFactory>& text_backbones() {
  static const Registry<TextBackboneFactory> registry("backbone", {
      {"bag_of_embeddings", "text: mean of token embeddings (width 64), fastText-style (default)",
       [](const TextBackboneOptions& o) { return std::make_shared<BagOfEmbeddings>(o); }},
      {"transformer", "text: 2 pre-norm Transformer encoder blocks of width 128, learned positions, mean pooling",
       [](const TextBackboneOptions& o) { return std::make_shared<TextTransformer>(o); }},
  });
  return registry;
}

}  // namespace strike::tasks
