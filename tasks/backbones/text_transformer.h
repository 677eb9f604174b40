// transformer: a small Transformer encoder over token ids with learned positions and mean pooling.
#pragma once
#include "tasks/backbones/text_backbone.h"
#include "tasks/nn/transformer_block.h"

#include <memory>
#include <vector>

namespace strike::tasks {

struct TextTransformerOptions {
  int64_t dim = 128;      // token width = feature width
  int64_t blocks = 2;     // pre-norm encoder blocks
  int64_t heads = 4;      // attention heads
  int64_t ffn_dim = 256;  // feed-forward hidden width
  double dropout = 0.1;   // attention weights, feed-forward hidden layer, embeddings
};

// Token embedding + learned position embedding (max_tokens positions), blocks that never attend to
// padding, then ReLU(LN(mean over the row's tokens)).
class TextTransformer : public TextBackbone {
 public:
  explicit TextTransformer(const TextBackboneOptions& options, TextTransformerOptions o = {});
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& lengths) override;
  int64_t feature_dim() const override { return options_.dim; }

 private:
  TextTransformerOptions options_;
  int64_t max_tokens_;
  torch::nn::Embedding token_embedding_{nullptr}, position_embedding_{nullptr};
  std::vector<std::shared_ptr<TransformerBlock>> blocks_;
  torch::nn::LayerNorm out_norm_{nullptr};
};

}  // namespace strike::tasks
