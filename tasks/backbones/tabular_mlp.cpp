// TabularMlp: embedding lookups, concatenation, and the shared MLP stack.
#include "tasks/backbones/tabular_mlp.h"

#include "core/error.h"

#include <algorithm>
#include <string>

namespace strike::tasks {

namespace {
int64_t embedding_dim(int64_t size) { return std::clamp<int64_t>((size + 1) / 2, 2, 16); }
}  // namespace

TabularMlp::TabularMlp(const TabularBackboneOptions& options, std::vector<int64_t> hidden) {
  int64_t width = options.numeric_features;
  for (size_t i = 0; i < options.category_sizes.size(); ++i) {
    const int64_t dim = embedding_dim(options.category_sizes[i]);
    embeddings_.push_back(
        register_module("emb" + std::to_string(i), category_embedding(options.category_sizes[i], dim)));
    width += dim;
  }
  require(width > 0, "the tabular mlp needs at least one numeric or categorical column");
  mlp_ = register_module("mlp", std::make_shared<MlpBackbone>(width, std::move(hidden)));
}

torch::Tensor TabularMlp::forward(const torch::Tensor& numeric, const torch::Tensor& categorical) {
  std::vector<torch::Tensor> parts;
  if (numeric.defined()) parts.push_back(numeric);
  for (size_t i = 0; i < embeddings_.size(); ++i) {
    parts.push_back(embeddings_[i]->forward(categorical.select(1, static_cast<int64_t>(i))));
  }
  return mlp_->forward(parts.size() == 1 ? parts[0] : torch::cat(parts, 1));
}

}  // namespace strike::tasks
