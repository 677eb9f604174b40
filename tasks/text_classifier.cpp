// TextClassifier: the tokens and their lengths through the text backbone.
#include "tasks/text_classifier.h"

namespace strike::tasks {

TextClassifier::TextClassifier(std::shared_ptr<TextBackbone> backbone, std::shared_ptr<Head> head,
                               std::vector<std::string> class_names, double label_smoothing)
    : Classifier("text_classification", backbone, std::move(head), static_cast<int64_t>(class_names.size()),
                 label_smoothing, class_names),
      backbone_(std::move(backbone)) {}

torch::Tensor TextClassifier::features(const TensorMap& batch) {
  return backbone_->forward(field(batch, "tokens"), field(batch, "tokens_length"));
}

}  // namespace strike::tasks
