// Classifier: smoothed cross-entropy, accuracy counts and prediction outputs over any backbone's logits.
#include "tasks/classifier.h"

#include "core/error.h"
#include "tasks/nn/cross_entropy.h"

#include <algorithm>
#include <cctype>

namespace strike::tasks {

namespace {

// A class name as a metric-name suffix: letters, digits and '_' only (metrics.csv columns, JSON keys
// that scripts index); the class index when that leaves nothing or repeats an earlier suffix.
std::vector<std::string> metric_keys(const std::vector<std::string>& class_names) {
  std::vector<std::string> keys;
  for (size_t k = 0; k < class_names.size(); ++k) {
    std::string key;
    for (char c : class_names[k]) key += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (key.empty() || std::find(keys.begin(), keys.end(), key) != keys.end()) key = std::to_string(k);
    keys.push_back(key);
  }
  return keys;
}

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

}  // namespace

Classifier::Classifier(std::string name, std::shared_ptr<torch::nn::Module> backbone, std::shared_ptr<Head> head,
                       int64_t num_classes, double label_smoothing, std::vector<std::string> class_names)
    : name_(std::move(name)),
      model_(std::make_shared<torch::nn::Module>("Classifier")),
      head_(std::move(head)),
      num_classes_(num_classes),
      label_smoothing_(label_smoothing),
      class_keys_(metric_keys(class_names)),
      // Top-5 says nothing with five classes or fewer (it is always 1); kept for the image classifier's
      // established columns.
      top5_(class_names.empty() || num_classes > 5) {
  require(num_classes_ > 0, name_ + " needs at least one class");
  require(label_smoothing_ >= 0 && label_smoothing_ < 1, "label smoothing must lie in [0, 1)");
  require(class_names.empty() || static_cast<int64_t>(class_names.size()) == num_classes_,
          name_ + ": " + std::to_string(class_names.size()) + " class names for " + std::to_string(num_classes_) +
              " classes");
  for (const auto& key : class_keys_) count_names_.push_back({"tp_" + key, "actual_" + key, "predicted_" + key});
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
  if (top5_) sums.sums["top5"] += static_cast<double>(hits.topk);
  sums.count += static_cast<double>(n);
  if (class_keys_.empty() || n == 0) return;
  // Per-class counts from one confusion histogram: index = actual * classes + predicted.
  const int64_t c = num_classes_;
  auto confusion = torch::bincount((labels.to(torch::kInt64) * c + output.argmax(1)).cpu(), {}, c * c).to(torch::kFloat64);
  auto m = confusion.view({c, c});
  auto tp = m.diagonal().contiguous(), actual = m.sum(1).contiguous(), predicted = m.sum(0).contiguous();
  for (int64_t k = 0; k < c; ++k) {
    const auto& names = count_names_[static_cast<size_t>(k)];
    sums.sums[names[0]] += tp.data_ptr<double>()[k];
    sums.sums[names[1]] += actual.data_ptr<double>()[k];
    sums.sums[names[2]] += predicted.data_ptr<double>()[k];
  }
}

std::vector<std::string> Classifier::averaged_names() const {
  std::vector<std::string> names = {"loss", "top1"};
  if (top5_) names.push_back("top5");
  return names;
}

std::vector<std::string> Classifier::metric_names() const {
  std::vector<std::string> names = headline_metrics();
  if (class_keys_.empty()) return names;
  for (const auto& key : class_keys_) {
    for (const char* m : {"precision_", "recall_", "f1_"}) names.push_back(m + key);
  }
  return names;
}

std::vector<std::string> Classifier::headline_metrics() const {
  std::vector<std::string> names = averaged_names();
  if (!class_keys_.empty()) names.push_back("macro_f1");
  return names;
}

std::vector<std::string> Classifier::sum_names() const {
  std::vector<std::string> names = averaged_names();
  for (const auto& counts : count_names_) names.insert(names.end(), counts.begin(), counts.end());
  return names;
}

std::map<std::string, double> Classifier::metrics(const MetricSums& sums) const {
  std::map<std::string, double> out;
  auto sum = [&](const std::string& name) {
    auto it = sums.sums.find(name);
    return it == sums.sums.end() ? 0.0 : it->second;
  };
  for (const auto& name : averaged_names()) {
    if (sums.sums.count(name)) out[name] = ratio(sum(name), sums.count);
  }
  if (class_keys_.empty()) return out;
  // A class never predicted has precision 0 and one never present recall 0 (scikit-learn's
  // zero_division=0), so macro F1 never rewards ignoring a class.
  double f1_total = 0;
  for (size_t k = 0; k < class_keys_.size(); ++k) {
    const std::string& key = class_keys_[k];
    const auto& [tp_name, actual_name, predicted_name] = count_names_[k];
    const double tp = sum(tp_name), actual = sum(actual_name), predicted = sum(predicted_name);
    out["precision_" + key] = ratio(tp, predicted);
    out["recall_" + key] = ratio(tp, actual);
    out["f1_" + key] = ratio(2 * tp, predicted + actual);
    f1_total += out["f1_" + key];
  }
  out["macro_f1"] = f1_total / static_cast<double>(class_keys_.size());
  return out;
}

torch::Tensor Classifier::predict(const torch::Tensor& output, const std::string& kind) {
  if (kind == "labels") return output.argmax(1);
  if (kind == "probabilities") return torch::softmax(output.to(torch::kFloat32), 1);
  if (kind == "logits") return output;
  throw UsageError("unknown output '" + kind + "' for " + name_ + "; known outputs: labels, probabilities, logits");
}

}  // namespace strike::tasks
