// ImageClassifier: images through the backbone.
#include "tasks/image_classifier.h"

namespace strike::tasks {

ImageClassifier::ImageClassifier(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head, int64_t num_classes,
                                 double label_smoothing)
    : Classifier("image_classification", backbone, std::move(head), num_classes, label_smoothing),
      backbone_(std::move(backbone)) {}

torch::Tensor ImageClassifier::features(const TensorMap& batch) { return backbone_->forward(field(batch, "image")); }

}  // namespace strike::tasks
