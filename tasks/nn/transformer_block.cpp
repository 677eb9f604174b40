// TransformerBlock: pre-norm self-attention and feed-forward with residual connections.
#include "tasks/nn/transformer_block.h"

#include "core/error.h"

namespace strike::tasks {

TransformerBlock::TransformerBlock(const TransformerBlockOptions& o) : dropout_(o.dropout) {
  require(o.dim > 0 && o.heads > 0 && o.dim % o.heads == 0, "transformer block: dim must be a positive multiple of heads");
  attention_norm_ = register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.dim})));
  attention_ = register_module(
      "attention", torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(o.dim, o.heads).dropout(o.dropout)));
  ffn_norm_ = register_module("ffn_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.dim})));
  ffn_in_ = register_module("ffn_in", torch::nn::Linear(o.dim, o.ffn_dim));
  ffn_out_ = register_module("ffn_out", torch::nn::Linear(o.ffn_dim, o.dim));
}

torch::Tensor TransformerBlock::forward(torch::Tensor x, const torch::Tensor& padding) {
  torch::Tensor h = attention_norm_->forward(x);
  x = x + std::get<0>(attention_->forward(h, h, h, padding, /*need_weights=*/false));
  h = torch::gelu(ffn_in_->forward(ffn_norm_->forward(x)));
  return x + ffn_out_->forward(torch::dropout(h, dropout_, is_training()));
}

}  // namespace strike::tasks
