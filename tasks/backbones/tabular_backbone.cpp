// The tabular backbone registry, and the embedding tables every tabular backbone shares.
#include "tasks/backbones/tabular_backbone.h"

#include "tasks/backbones/ft_transformer.h"
#include "tasks/backbones/tabular_mlp.h"

namespace strike::tasks {

torch::nn::Embedding category_embedding(int64_t size, int64_t dim) {
  torch::nn::Embedding table(size, dim);
  torch::NoGradGuard no_grad;
  table->weight[0].zero_();
  return table;
}

const Registry<TabularBackboneFactory>& tabular_backbones() {
  static const Registry<TabularBackboneFactory> registry("backbone", {
      {"mlp", "tabular: categorical embeddings + numeric columns, 2 x 128 Linear+ReLU (default)",
       [](const TabularBackboneOptions& o) { return std::make_shared<TabularMlp>(o); }},
      {"ft_transformer", "tabular: FT-Transformer, a token per column, 3 attention blocks of width 32",
       [](const TabularBackboneOptions& o) { return std::make_shared<FtTransformer>(o); }},
  });
  return registry;
}

}  // namespace strike::tasks
