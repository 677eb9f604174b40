// TextTransformer: embeddings, masked self-attention blocks, masked mean pooling.
#include "tasks/backbones/text_transformer.h"

#include "core/error.h"

#include <string>

namespace strike::tasks {

TextTransformer::TextTransformer(const TextBackboneOptions& options, TextTransformerOptions o)
    : options_(o), max_tokens_(options.max_tokens) {
  require(options.vocab_size > 1, "transformer needs a vocabulary (the manifest's tokenizer has none)");
  require(options.max_tokens > 0, "transformer needs the dataset's --max-tokens (the manifest has none)");
  token_embedding_ = register_module(
      "token_embedding",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(options.vocab_size, o.dim).padding_idx(options.pad_id)));
  position_embedding_ = register_module("position_embedding", torch::nn::Embedding(options.max_tokens, o.dim));
  {
    // Small initial embeddings (BERT's 0.02), so the first blocks see inputs of a sensible scale.
    torch::NoGradGuard no_grad;
    token_embedding_->weight.normal_(0.0, 0.02);
    token_embedding_->weight[options.pad_id].zero_();
    position_embedding_->weight.normal_(0.0, 0.02);
  }
  for (int64_t b = 0; b < o.blocks; ++b) {
    blocks_.push_back(register_module("block" + std::to_string(b),
                                      std::make_shared<TransformerBlock>(
                                          TransformerBlockOptions{o.dim, o.heads, o.ffn_dim, o.dropout})));
  }
  out_norm_ = register_module("out_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.dim})));
}

torch::Tensor TextTransformer::forward(const torch::Tensor& tokens, const torch::Tensor& lengths) {
  const int64_t width = tokens.size(1);
  if (width > max_tokens_) {
    throw Error("a batch holds rows of " + std::to_string(width) + " tokens, the model has positions for " +
                    std::to_string(max_tokens_),
                "transformer", "predict with at most the dataset's --max-tokens tokens per text");
  }
  auto positions = torch::arange(width, tokens.options().dtype(torch::kInt64));
  auto x = token_embedding_->forward(tokens) + position_embedding_->forward(positions).unsqueeze(0);
  x = torch::dropout(x, options_.dropout, is_training());
  auto padding = padding_mask(lengths, width);
  // A row of length 0 would mask every key and give NaN attention; it attends to its first position
  // (padding, whose output the pooling then ignores).
  auto attend_mask = padding.clone();
  attend_mask.select(1, 0).fill_(false);
  x = x.transpose(0, 1);  // MultiheadAttention takes [tokens, batch, dim]
  for (auto& block : blocks_) x = block->forward(x, attend_mask);
  return torch::relu(out_norm_->forward(masked_mean(x.transpose(0, 1), padding, lengths)));
}

}  // namespace strike::tasks
