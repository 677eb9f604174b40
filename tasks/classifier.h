// Classification whatever the input: a backbone and a head giving logits, cross-entropy, top-1/top-5 accuracy.
#pragma once
#include "tasks/heads/head.h"
#include "tasks/task.h"

#include <array>
#include <memory>
#include <string>

namespace strike::tasks {

// The model's children are "backbone" and "head" (checkpoint keys backbone.* and head.*). Batches carry
// "label" (int64 [B]) and whatever inputs features() reads; subclasses say which.
class Classifier : public Task {
 public:
  // With `class_names`, the classifier also reports per-class precision, recall and F1 and their
  // unweighted mean (macro F1), named after the classes; without, loss and accuracy only.
  Classifier(std::string name, std::shared_ptr<torch::nn::Module> backbone, std::shared_ptr<Head> head,
             int64_t num_classes, double label_smoothing, std::vector<std::string> class_names = {});

  std::string name() const override { return name_; }
  torch::nn::Module& model() override { return *model_; }
  torch::Tensor forward(const TensorMap& batch) override;  // logits [B, classes]
  torch::Tensor loss(const torch::Tensor& output, const TensorMap& batch) override;
  // "loss" = sum of per-sample (smoothed) cross-entropy, "top1"/"top5" = correct counts; with class
  // names also per class k "tp_k" (correct predictions of k), "predicted_k" and "actual_k" counts.
  void accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                          MetricSums& sums) override;
  // loss, top1, top5 (only above five classes when per-class metrics are on), then macro_f1 and
  // precision_<class>, recall_<class>, f1_<class> for each class.
  std::vector<std::string> metric_names() const override;
  // Without the per-class figures, which would make the log line as long as the class list.
  std::vector<std::string> headline_metrics() const override;
  std::vector<std::string> sum_names() const override;
  std::map<std::string, double> metrics(const MetricSums& sums) const override;
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
  std::vector<std::string> averaged_names() const;  // the sums reported as per-sample averages: loss, top1, (top5)

  std::string name_;
  std::shared_ptr<torch::nn::Module> model_;
  std::shared_ptr<Head> head_;
  int64_t num_classes_;
  double label_smoothing_;
  std::vector<std::string> class_keys_;  // per-class metric suffixes; empty: no per-class metrics
  // Per class, the names of its sums ("tp_k", "actual_k", "predicted_k"), built once: not per batch.
  std::vector<std::array<std::string, 3>> count_names_;
  bool top5_ = true;
};

}  // namespace strike::tasks
