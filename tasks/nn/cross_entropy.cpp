// Cross-entropy: the ATen formula, the fused CPU forward with its backward node, and top-k hit counts.
#include "tasks/nn/cross_entropy.h"

#include "core/error.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace strike::tasks {

namespace {

using torch::autograd::Node;
using torch::autograd::variable_list;

void check_labels(const int64_t* labels, int64_t rows, int64_t classes) {
  for (int64_t i = 0; i < rows; ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw Error("label " + std::to_string(labels[i]) + " at batch row " + std::to_string(i) + " is outside [0, " +
                      std::to_string(classes) + ")",
                  "cross-entropy", "the dataset's labels must index its class names");
    }
  }
}

// d loss / d logits = g / B * (p - (1 - s) * onehot(label) - s / C), with p = softmax(logits).
class CrossEntropyBackward : public Node {
 public:
  CrossEntropyBackward(torch::Tensor probabilities, std::vector<int64_t> labels, double label_smoothing)
      : probabilities_(std::move(probabilities)), labels_(std::move(labels)), smoothing_(label_smoothing) {}

  std::string name() const override { return "CrossEntropyBackward"; }

  void release_variables() override {
    probabilities_.reset();
    released_ = true;
  }

  variable_list apply(variable_list&& grads) override {
    if (released_) {
      throw Error("cross_entropy: backward ran twice through the same graph", "",
                  "pass retain_graph=true to the first backward");
    }
    if (torch::GradMode::is_enabled()) {
      throw Error("cross_entropy: double backward (create_graph) is not supported by the fused path");
    }
    variable_list out(1);
    if (grads.empty() || !grads[0].defined() || !task_should_compute_output(0)) return out;
    const int64_t rows = probabilities_.size(0), classes = probabilities_.size(1);
    const float scale = static_cast<float>(grads[0].item<double>() / static_cast<double>(rows));
    const float off = static_cast<float>(smoothing_ / static_cast<double>(classes));
    const float on = static_cast<float>(1 - smoothing_);
    torch::Tensor dz = torch::empty_like(probabilities_);
    const float* p = probabilities_.data_ptr<float>();
    float* d = dz.data_ptr<float>();
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < classes; ++j) d[i * classes + j] = scale * (p[i * classes + j] - off);
      d[i * classes + labels_[i]] -= scale * on;
    }
    out[0] = std::move(dz);
    return out;
  }

 private:
  torch::Tensor probabilities_;
  std::vector<int64_t> labels_;
  double smoothing_;
  bool released_ = false;
};

bool fused_applies(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.device().is_cpu() && logits.scalar_type() == torch::kFloat32 && logits.dim() == 2 &&
         logits.size(0) > 0 && logits.size(1) > 0 && logits.size(1) <= kFusedMaxClasses && labels.device().is_cpu() &&
         labels.numel() == logits.size(0) && !logits._fw_grad(0).defined();
}

}  // namespace

torch::Tensor cross_entropy_per_sample(const torch::Tensor& logits, const torch::Tensor& labels,
                                       double label_smoothing) {
  torch::Tensor log_probs = torch::log_softmax(logits.to(torch::kFloat32), 1);
  torch::Tensor nll = -log_probs.gather(1, labels.to(torch::kLong).view({-1, 1})).squeeze(1);
  if (label_smoothing == 0) return nll;
  return (1 - label_smoothing) * nll - label_smoothing * log_probs.mean(1);
}

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing) {
  if (!fused_applies(logits, labels)) return cross_entropy_per_sample(logits, labels, label_smoothing).mean();
  const torch::Tensor z = logits.contiguous();
  const torch::Tensor y = labels.to(torch::kLong).contiguous();
  const int64_t rows = z.size(0), classes = z.size(1);
  const int64_t* yp = y.data_ptr<int64_t>();
  check_labels(yp, rows, classes);
  const bool needs_grad = torch::GradMode::is_enabled() && logits.requires_grad();
  torch::Tensor probabilities = needs_grad ? torch::empty({rows, classes}, z.options().requires_grad(false)) : torch::Tensor();
  float* p = needs_grad ? probabilities.data_ptr<float>() : nullptr;
  const float* zp = z.data_ptr<float>();
  const float s = static_cast<float>(label_smoothing);
  double total = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = zp + i * classes;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < classes; ++j) mx = row[j] > mx || std::isnan(row[j]) ? row[j] : mx;
    // exp(z - max) once per logit: summed for the log-sum-exp, kept (normalized) as the softmax.
    float exps[kFusedMaxClasses];
    float sum = 0, zsum = 0;
    for (int64_t j = 0; j < classes; ++j) {
      exps[j] = std::exp(row[j] - mx);
      sum += exps[j];
      zsum += row[j];
    }
    const float lse = mx + std::log(sum);
    float loss = lse - row[yp[i]];
    if (s != 0) loss = (1 - s) * loss + s * (lse - zsum / static_cast<float>(classes));
    total += loss;
    if (p) {
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < classes; ++j) p[i * classes + j] = exps[j] * inv;
    }
  }
  torch::Tensor loss = torch::full({}, total / static_cast<double>(rows), z.options().requires_grad(false));
  if (!needs_grad) return loss;
  auto node = std::shared_ptr<CrossEntropyBackward>(
      new CrossEntropyBackward(std::move(probabilities), std::vector<int64_t>(yp, yp + rows), label_smoothing),
      torch::autograd::deleteNode);
  node->set_next_edges({torch::autograd::impl::gradient_edge(z)});
  torch::autograd::set_history(loss, node);
  return loss;
}

TopkHits count_topk_hits(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k) {
  TopkHits hits;
  torch::NoGradGuard no_grad;
  const int64_t rows = logits.size(0), classes = logits.size(1);
  torch::Tensor y = labels.to(torch::kLong).reshape({-1});
  if (logits.device().is_cpu() && logits.scalar_type() == torch::kFloat32 && logits.dim() == 2 &&
      y.device().is_cpu() && y.numel() == rows) {
    const torch::Tensor z = logits.contiguous();
    y = y.contiguous();
    const float* zp = z.data_ptr<float>();
    const int64_t* yp = y.data_ptr<int64_t>();
    check_labels(yp, rows, classes);
    for (int64_t i = 0; i < rows; ++i) {
      const float* row = zp + i * classes;
      const int64_t label = yp[i];
      const float target = row[label];
      if (std::isnan(target)) continue;
      int64_t rank = 0;
      for (int64_t j = 0; j < classes; ++j) rank += row[j] > target || (row[j] == target && j < label);
      hits.top1 += rank == 0;
      hits.topk += rank < k;
    }
    return hits;
  }
  torch::Tensor column = y.to(logits.device()).view({-1, 1});
  torch::Tensor target = logits.gather(1, column);
  torch::Tensor before = torch::arange(classes, column.options()).view({1, -1}) < column;
  torch::Tensor rank = ((logits > target) | ((logits == target) & before)).sum(1);
  torch::Tensor valid = ~torch::isnan(target.squeeze(1));
  hits.top1 = ((rank == 0) & valid).sum().item<int64_t>();
  hits.topk = ((rank < k) & valid).sum().item<int64_t>();
  return hits;
}

}  // namespace strike::tasks
