// Classification whatever the input: a backbone and a head giving logits, cross-entropy, top-1/top-5 accuracy.
#pragma once
#include "tasks/heads/head.h"
#include "tasks/task.h"

#include <memory>
#include <string>

namespace strike::tasks {

// The model's children are "backbone" and "head" (checkpoint keys backbone.* and head.*). Batches carry
// "label" (int64 [B]) and whatever inputs features() reads; subclasses say which.
class Classifier : public Task {
 public:
  Classifier(std::string name, std::shared_ptr<torch::nn::Module> backbone, std::shared_ptr<Head> head,
             int64_t num_classes, double label_smoothing);

  std::string name() const override { return name_; }
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

  Head& head() { return *head_; }
  int64_t num_classes() const { return num_classes_; }

 protected:
  // The backbone's features [B, head input] for a batch.
  virtual torch::Tensor features(const TensorMap& batch) = 0;
  // The batch's field `name`; throws naming the task when the dataset lacks it.
  const torch::Tensor& field(const TensorMap& batch, const std::string& name) const;

 private:
  std::string name_;
  std::shared_ptr<torch::nn::Module> model_;
  std::shared_ptr<Head> head_;
  int64_t num_classes_;
  double label_smoothing_;
};

}  // namespace strike::tasks
