// ImageClassifier: forward, smoothed cross-entropy, accuracy counts and prediction outputs.
#include "tasks/image_classifier.h"

#include "core/error.h"
#include "tasks/nn/cross_entropy.h"

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
  return cross_entropy_per_sample(logits, labels, label_smoothing_);
}

torch::Tensor ImageClassifier::loss(const torch::Tensor& output, const TensorMap& batch) {
  // The same mean; one fused pass and one autograd node for float32 CPU logits of few classes.
  return cross_entropy(output, field(batch, "label"), label_smoothing_);
}

void ImageClassifier::accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                                         MetricSums& sums) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& labels = field(batch, "label");
  int64_t n = output.size(0);
  // `loss` is the batch mean; times n it is the per-sample sum, so averages over any batch split are exact.
  double loss_sum = loss.defined() ? loss.item<double>() * static_cast<double>(n)
                                   : per_sample_loss(output, labels).sum().item<double>();
  // Ties between logits resolve by class index (count_topk_hits), so the counts are deterministic.
  TopkHits hits = count_topk_hits(output, labels, std::min<int64_t>(5, output.size(1)));
  sums.sums["loss"] += loss_sum;
  sums.sums["top1"] += static_cast<double>(hits.top1);
  sums.sums["top5"] += static_cast<double>(hits.topk);
  sums.count += static_cast<double>(n);
}

torch::Tensor ImageClassifier::predict(const torch::Tensor& output, const std::string& kind) {
  if (kind == "labels") return output.argmax(1);
  if (kind == "probabilities") return torch::softmax(output.to(torch::kFloat32), 1);
  if (kind == "logits") return output;
  throw UsageError("unknown output '" + kind + "' for image_classification; known outputs: labels, probabilities, logits");
}

}  // namespace strike::tasks
