// ImageClassifier: forward, smoothed cross-entropy, accuracy counts and prediction outputs.
#include "tasks/image_classifier.h"

#include "core/error.h"

#include <algorithm>

namespace strike::tasks {

namespace {
const torch::Tensor& field(const TensorMap& batch, const std::string& name) {
  auto it = batch.find(name);
  if (it == batch.end()) {
    throw Error("the batch has no field '" + name + "'", "image_classification",
                "the dataset must provide 'image' and 'label' fields");
  }
  return it->second;
}
}  // namespace

ImageClassifier::ImageClassifier(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head, int64_t num_classes,
                                 double label_smoothing)
    : model_(std::make_shared<torch::nn::Module>("ImageClassifier")),
      backbone_(std::move(backbone)),
      head_(std::move(head)),
      num_classes_(num_classes),
      label_smoothing_(label_smoothing) {
  require(num_classes_ > 0, "image_classification needs at least one class");
  require(label_smoothing_ >= 0 && label_smoothing_ < 1, "label smoothing must lie in [0, 1)");
  model_->register_module("backbone", backbone_);
  model_->register_module("head", head_);
}

torch::Tensor ImageClassifier::forward(const TensorMap& batch) {
  return head_->forward(backbone_->forward(field(batch, "image")));
}

torch::Tensor ImageClassifier::per_sample_loss(const torch::Tensor& logits, const torch::Tensor& labels) const {
  // Smoothed cross-entropy as PyTorch defines it: (1 - s) * nll + s * mean over classes of -log p.
  torch::Tensor log_probs = torch::log_softmax(logits.to(torch::kFloat32), 1);
  torch::Tensor nll = -log_probs.gather(1, labels.to(torch::kLong).view({-1, 1})).squeeze(1);
  if (label_smoothing_ == 0) return nll;
  return (1 - label_smoothing_) * nll - label_smoothing_ * log_probs.mean(1);
}

torch::Tensor ImageClassifier::loss(const torch::Tensor& output, const TensorMap& batch) {
  return per_sample_loss(output, field(batch, "label")).mean();
}

void ImageClassifier::accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                                         MetricSums& sums) {
  torch::NoGradGuard no_grad;
  torch::Tensor labels = field(batch, "label").to(torch::kLong).view({-1, 1});
  int64_t n = output.size(0);
  // `loss` is the batch mean; times n it is the per-sample sum, so averages over any batch split are exact.
  double loss_sum = loss.defined() ? loss.item<double>() * static_cast<double>(n)
                                   : per_sample_loss(output, labels.view({-1})).sum().item<double>();
  int64_t k = std::min<int64_t>(5, output.size(1));
  torch::Tensor topk = std::get<1>(output.topk(k, 1));
  torch::Tensor hits = topk.eq(labels);
  sums.sums["loss"] += loss_sum;
  sums.sums["top1"] += hits.select(1, 0).sum().item<double>();
  sums.sums["top5"] += hits.any(1).sum().item<double>();
  sums.count += static_cast<double>(n);
}

torch::Tensor ImageClassifier::predict(const torch::Tensor& output, const std::string& kind) {
  if (kind == "labels") return output.argmax(1);
  if (kind == "probabilities") return torch::softmax(output.to(torch::kFloat32), 1);
  if (kind == "logits") return output;
  throw UsageError("unknown output '" + kind + "' for image_classification; known outputs: labels, probabilities, logits");
}

}  // namespace strike::tasks
