// FtTransformer: the feature tokenizer, pre-norm attention blocks and the [CLS] readout.
#include "tasks/backbones/ft_transformer.h"

#include "core/error.h"

#include <cmath>
#include <string>

namespace strike::tasks {

FtTransformer::FtTransformer(const TabularBackboneOptions& options, FtTransformerOptions o) : options_(o) {
  const int64_t numeric = options.numeric_features;
  const int64_t categorical = static_cast<int64_t>(options.category_sizes.size());
  require(numeric + categorical > 0, "ft_transformer needs at least one numeric or categorical column");
  require(o.dim > 0 && o.heads > 0 && o.dim % o.heads == 0, "ft_transformer: dim must be a positive multiple of heads");
  // The tokenizer's initialisation of the reference implementation: uniform within 1/sqrt(dim).
  const double bound = 1.0 / std::sqrt(static_cast<double>(o.dim));
  auto uniform = [bound](std::vector<int64_t> shape) { return torch::empty(shape).uniform_(-bound, bound); };
  if (numeric > 0) {
    numeric_weight_ = register_parameter("numeric_weight", uniform({numeric, o.dim}));
    numeric_bias_ = register_parameter("numeric_bias", uniform({numeric, o.dim}));
  }
  for (int64_t c = 0; c < categorical; ++c) {
    embeddings_.push_back(register_module("emb" + std::to_string(c), category_embedding(options.category_sizes[c], o.dim)));
  }
  if (categorical > 0) category_bias_ = register_parameter("category_bias", uniform({categorical, o.dim}));
  cls_ = register_parameter("cls", uniform({1, 1, o.dim}));
  for (int64_t b = 0; b < o.blocks; ++b) {
    blocks_.push_back(register_module("block" + std::to_string(b), std::make_shared<TransformerBlock>(TransformerBlockOptions{o.dim, o.heads, o.ffn_dim, o.dropout})));
  }
  out_norm_ = register_module("out_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.dim})));
}

torch::Tensor FtTransformer::tokens(const torch::Tensor& numeric, const torch::Tensor& categorical) {
  std::vector<torch::Tensor> parts;
  const int64_t batch = numeric.defined() ? numeric.size(0) : categorical.size(0);
  parts.push_back(cls_.expand({batch, 1, options_.dim}));
  if (numeric_weight_.defined()) parts.push_back(numeric.unsqueeze(2) * numeric_weight_ + numeric_bias_);
  if (!embeddings_.empty()) {
    std::vector<torch::Tensor> columns;
    for (size_t c = 0; c < embeddings_.size(); ++c) {
      columns.push_back(embeddings_[c]->forward(categorical.select(1, static_cast<int64_t>(c))));
    }
    parts.push_back(torch::stack(columns, 1) + category_bias_);
  }
  return torch::cat(parts, 1);  // [B, 1 + columns, dim]
}

torch::Tensor FtTransformer::forward(const torch::Tensor& numeric, const torch::Tensor& categorical) {
  // MultiheadAttention takes [tokens, batch, dim].
  torch::Tensor x = tokens(numeric, categorical).transpose(0, 1);
  for (auto& block : blocks_) x = block->forward(x);
  return torch::relu(out_norm_->forward(x.select(0, 0)));
}

}  // namespace strike::tasks
