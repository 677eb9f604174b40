// Classifier: smoothed cross-entropy, accuracy counts and prediction outputs over any backbone's logits.
#include "tasks/classifier.h"

#include "core/error.h"
#include "tasks/nn/cross_entropy.h"

#include <algorithm>

namespace strike::tasks {

Classifier::Classifier(std::string name, std::shared_ptr<torch::nn::Module> backbone, std::shared_ptr<Head> head,
                       int64_t num_classes, double label_smoothing)
    : name_(std::move(name)),
      model_(std::make_shared<torch::nn::Module>("Classifier")),
      head_(std::move(head)),
      num_classes_(num_classes),
      label_smoothing_(label_smoothing) {
  require(num_classes_ > 0, name_ + " needs at least one class");
  require(label_smoothing_ >= 0 && label_smoothing_ < 1, "label smoothing must lie in [0, 1)");
  model_->register_module("backbone", std::move(backbone));
  model_->register_module("head", head_);
}

const torch::Tensor& Classifier::field(const TensorMap& batch, const std::string& name) const {
  auto it = batch.find(name);
  if (it == batch.end()) {
    throw Error("the batch has no field '" + name + "'", name_,
                "train " + name_ + " on a dataset converted for it (`strike data inspect DIR` lists its fields)");
  }
  return it->second;
}

torch::Tensor Classifier::forward(const TensorMap& batch) { return head_->forward(features(batch)); }

torch::Tensor Classifier::loss(const torch::Tensor& output, const TensorMap& batch) {
  // Smoothed cross-entropy as PyTorch defines it; one fused pass and one autograd node for float32 CPU
  // logits of few classes.
  return cross_entropy(output, field(batch, "label"), label_smoothing_);
}

void Classifier::accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                                    MetricSums& sums) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& labels = field(batch, "label");
  int64_t n = output.size(0);
  // `loss` is the batch mean; times n it is the per-sample sum, so averages over any batch split are exact.
  double loss_sum = loss.defined() ? loss.item<double>() * static_cast<double>(n)
                                   : cross_entropy_per_sample(output, labels, label_smoothing_).sum().item<double>();
  // Ties between logits resolve by class index (count_topk_hits), so the counts are deterministic.
  TopkHits hits = count_topk_hits(output, labels, std::min<int64_t>(5, output.size(1)));
  sums.sums["loss"] += loss_sum;
  sums.sums["top1"] += static_cast<double>(hits.top1);
  sums.sums["top5"] += static_cast<double>(hits.topk);
  sums.count += static_cast<double>(n);
}

torch::Tensor Classifier::predict(const torch::Tensor& output, const std::string& kind) {
  if (kind == "labels") return output.argmax(1);
  if (kind == "probabilities") return torch::softmax(output.to(torch::kFloat32), 1);
  if (kind == "logits") return output;
  throw UsageError("unknown output '" + kind + "' for " + name_ + "; known outputs: labels, probabilities, logits");
}

}  // namespace strike::tasks
