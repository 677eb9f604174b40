// The pre-norm Transformer encoder block shared by the attention backbones (tabular and text).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace strike::tasks {

struct TransformerBlockOptions {
  int64_t dim = 32;      // token width (a multiple of heads)
  int64_t heads = 4;     // attention heads
  int64_t ffn_dim = 64;  // hidden width of the feed-forward layer
  double dropout = 0.1;  // on attention weights and the feed-forward hidden layer
};

// x + MHA(LN(x)), then x + FFN(LN(x)) with a GELU; x is [tokens, batch, dim]. Children are named
// attention_norm, attention, ffn_norm, ffn_in, ffn_out (checkpoint keys).
class TransformerBlock : public torch::nn::Module {
 public:
  explicit TransformerBlock(const TransformerBlockOptions& o);
  // `padding` (bool [batch, tokens], optional): true where a token is padding and must not be attended to.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& padding = {});

 private:
  double dropout_;
  torch::nn::LayerNorm attention_norm_{nullptr}, ffn_norm_{nullptr};
  torch::nn::MultiheadAttention attention_{nullptr};
  torch::nn::Linear ffn_in_{nullptr}, ffn_out_{nullptr};
};

}  // namespace strike::tasks
