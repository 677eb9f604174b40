// image_classification: backbone + head trained with cross-entropy, measured by top-1/top-5 accuracy.
#pragma once
#include "tasks/backbones/backbone.h"
#include "tasks/heads/head.h"
#include "tasks/task.h"

#include <memory>

namespace strike::tasks {

// The model's children are "backbone" and "head", so checkpoint keys read backbone.<torchvision key>
// and head.*. Batches carry "image" (float32 [B, C, H, W]) and "label" (int64 [B]).
class ImageClassifier : public Task {
 public:
  ImageClassifier(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head, int64_t num_classes,
                  double label_smoothing = 0.0);

  std::string name() const override { return "image_classification"; }
  torch::nn::Module& model() override { return *model_; }
  torch::Tensor forward(const TensorMap& batch) override;  // logits [B, classes]
  torch::Tensor loss(const torch::Tensor& output, const TensorMap& batch) override;
  // "loss" = sum of per-sample (smoothed) cross-entropy, "top1"/"top5" = correct counts.
  void accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                          MetricSums& sums) override;
  std::vector<std::string> metric_names() const override { return {"loss", "top1", "top5"}; }
  bool higher_is_better(const std::string& metric) const override { return metric != "loss"; }
  std::vector<std::string> output_kinds() const override { return {"labels", "probabilities", "logits"}; }
  torch::Tensor predict(const torch::Tensor& output, const std::string& kind) override;

  Backbone& backbone() { return *backbone_; }
  Head& head() { return *head_; }
  int64_t num_classes() const { return num_classes_; }

 private:
  torch::Tensor per_sample_loss(const torch::Tensor& logits, const torch::Tensor& labels) const;

  std::shared_ptr<torch::nn::Module> model_;
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<Head> head_;
  int64_t num_classes_;
  double label_smoothing_;
};

}  // namespace strike::tasks
