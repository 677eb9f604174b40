// image_classification: an image backbone + head trained with cross-entropy, measured by top-1/top-5 accuracy.
#pragma once
#include "tasks/backbones/backbone.h"
#include "tasks/classifier.h"

#include <memory>

namespace strike::tasks {

// Checkpoint keys read backbone.<torchvision key> and head.*. Batches carry "image" (float32 [B, C, H, W])
// and "label" (int64 [B]).
class ImageClassifier : public Classifier {
 public:
  ImageClassifier(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head, int64_t num_classes,
                  double label_smoothing = 0.0);
  Backbone& backbone() { return *backbone_; }

 protected:
  torch::Tensor features(const TensorMap& batch) override;

 private:
  std::shared_ptr<Backbone> backbone_;
};

}  // namespace strike::tasks
