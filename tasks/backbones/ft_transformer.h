// ft_transformer: every column becomes a token, a [CLS] token attends over them (Gorishniy et al., 2021).
#pragma once
#include "tasks/backbones/tabular_backbone.h"
#include "tasks/nn/transformer_block.h"

#include <memory>
#include <vector>

namespace strike::tasks {

struct FtTransformerOptions {
  int64_t dim = 32;         // token width
  int64_t blocks = 3;       // pre-norm Transformer blocks
  int64_t heads = 4;        // attention heads (dim must divide by it)
  int64_t ffn_dim = 64;     // hidden width of each block's feed-forward layer
  double dropout = 0.1;     // on attention weights and the feed-forward hidden layer
};

// Numeric column j: token x_j * w_j + b_j; categorical column c: embedding[index] + b_c; a learned [CLS]
// token first. Blocks: x + MHA(LN(x)), then x + FFN(LN(x)) with a GELU. Features: ReLU(LN([CLS])).
class FtTransformer : public TabularBackbone {
 public:
  explicit FtTransformer(const TabularBackboneOptions& options, FtTransformerOptions o = {});
  torch::Tensor forward(const torch::Tensor& numeric, const torch::Tensor& categorical) override;
  int64_t feature_dim() const override { return options_.dim; }

 private:
  torch::Tensor tokens(const torch::Tensor& numeric, const torch::Tensor& categorical);

  FtTransformerOptions options_;
  torch::Tensor numeric_weight_, numeric_bias_, category_bias_, cls_;
  std::vector<torch::nn::Embedding> embeddings_;
  std::vector<std::shared_ptr<TransformerBlock>> blocks_;
  torch::nn::LayerNorm out_norm_{nullptr};
};

}  // namespace strike::tasks
