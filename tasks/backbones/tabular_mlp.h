// tabular mlp: categorical embeddings concatenated with the numeric columns, then Linear+ReLU layers.
#pragma once
#include "tasks/backbones/mlp.h"
#include "tasks/backbones/tabular_backbone.h"

#include <memory>
#include <vector>

namespace strike::tasks {

// Each categorical column gets an embedding of min(16, (size + 1) / 2) dimensions (the fastai rule,
// capped for small data); the MLP (children "emb<i>" and "mlp.fc<i>") has two hidden layers of 128.
class TabularMlp : public TabularBackbone {
 public:
  explicit TabularMlp(const TabularBackboneOptions& options, std::vector<int64_t> hidden = {128, 128});
  torch::Tensor forward(const torch::Tensor& numeric, const torch::Tensor& categorical) override;
  int64_t feature_dim() const override { return mlp_->feature_dim(); }

 private:
  std::vector<torch::nn::Embedding> embeddings_;
  std::shared_ptr<MlpBackbone> mlp_;
};

}  // namespace strike::tasks
