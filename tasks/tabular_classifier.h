// tabular_classification: a tabular backbone + head over a CSV's encoded columns, cross-entropy, accuracy.
#pragma once
#include "tasks/backbones/tabular_backbone.h"
#include "tasks/classifier.h"

#include <memory>

namespace strike::tasks {

// Batches carry "numeric" (float32 [B, width]) and/or "categorical" (int64 [B, columns]), as
// `strike data convert` writes them from a CSV, and "label" (int64 [B]).
class TabularClassifier : public Classifier {
 public:
  TabularClassifier(std::shared_ptr<TabularBackbone> backbone, std::shared_ptr<Head> head, int64_t num_classes,
                    double label_smoothing = 0.0);
  TabularBackbone& backbone() { return *backbone_; }

 protected:
  torch::Tensor features(const TensorMap& batch) override;

 private:
  std::shared_ptr<TabularBackbone> backbone_;
};

}  // namespace strike::tasks
