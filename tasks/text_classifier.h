// text_classification: a text backbone + head over padded token ids, cross-entropy, accuracy and per-class F1.
#pragma once
#include "tasks/backbones/text_backbone.h"
#include "tasks/classifier.h"

#include <memory>
#include <string>
#include <vector>

namespace strike::tasks {

// Batches carry "tokens" (int64 [B, L], padded), "tokens_length" (int64 [B]) and "label" (int64 [B]), as
// the loader delivers a dataset `strike data convert --source text_folder|text_csv` wrote. Reports
// precision, recall and F1 per class and macro F1 besides loss and accuracy.
class TextClassifier : public Classifier {
 public:
  TextClassifier(std::shared_ptr<TextBackbone> backbone, std::shared_ptr<Head> head,
                 std::vector<std::string> class_names, double label_smoothing = 0.0);
  TextBackbone& backbone() { return *backbone_; }

 protected:
  torch::Tensor features(const TensorMap& batch) override;

 private:
  std::shared_ptr<TextBackbone> backbone_;
};

}  // namespace strike::tasks
