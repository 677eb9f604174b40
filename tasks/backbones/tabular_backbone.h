// The TabularBackbone interface (numeric + categorical columns -> feature vector) and its registry.
#pragma once
#include "tasks/registry.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace strike::tasks {

// What every tabular backbone is built from; filled from the dataset manifest's schema.
struct TabularBackboneOptions {
  int64_t numeric_features = 0;         // width of the "numeric" field: standardized values + missing indicators
  std::vector<int64_t> category_sizes;  // vocabulary size of each "categorical" column, in field order
};

// A module mapping one row's columns to features [B, feature_dim()]. `numeric` is float32
// [B, numeric_features] and `categorical` int64 [B, columns] of vocabulary indices (0 = a value unseen in
// training, 1 = missing); either is undefined when the dataset has no such column.
class TabularBackbone : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& numeric, const torch::Tensor& categorical) = 0;
  virtual int64_t feature_dim() const = 0;
};

using TabularBackboneFactory = std::function<std::shared_ptr<TabularBackbone>(const TabularBackboneOptions&)>;

// mlp, ft_transformer.
const Registry<TabularBackboneFactory>& tabular_backbones();

// One categorical column's embedding table, with the unknown category's row at zero: no training row
// holds index 0, so it stays zero and an unseen value adds nothing rather than a random vector.
torch::nn::Embedding category_embedding(int64_t size, int64_t dim);

}  // namespace strike::tasks
