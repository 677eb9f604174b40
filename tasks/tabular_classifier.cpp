// TabularClassifier: the numeric and categorical fields through the tabular backbone.
#include "tasks/tabular_classifier.h"

namespace strike::tasks {

TabularClassifier::TabularClassifier(std::shared_ptr<TabularBackbone> backbone, std::shared_ptr<Head> head,
                                     int64_t num_classes, double label_smoothing)
    : Classifier("tabular_classification", backbone, std::move(head), num_classes, label_smoothing),
      backbone_(std::move(backbone)) {}

torch::Tensor TabularClassifier::features(const TensorMap& batch) {
  auto numeric = batch.find("numeric");
  auto categorical = batch.find("categorical");
  return backbone_->forward(numeric == batch.end() ? torch::Tensor() : numeric->second,
                            categorical == batch.end() ? torch::Tensor() : categorical->second);
}

}  // namespace strike::tasks
