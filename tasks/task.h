// The Task interface: a model plus how a batch becomes a loss, metrics and predictions.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tasks/rank_peers.h"

namespace strike::tasks {

// Named tensors with the batch as first dimension (the loader's Batch::fields).
using TensorMap = std::map<std::string, torch::Tensor>;

// Sums and counts, so metrics reduce exactly across batches and ranks (never an average of averages).
struct MetricSums {
  std::map<std::string, double> sums;  // e.g. "loss" -> sum of per-sample loss, "top1" -> correct count
  double count = 0;                    // samples seen
  void add(const MetricSums& other);
  // Averages: sums[k] / count for every k.
  std::map<std::string, double> averages() const;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;  // e.g. "image_classification"
  // The whole model; its named_parameters()/named_buffers() are the checkpoint's state_dict keys.
  virtual torch::nn::Module& model() = 0;
  // Forward pass on a batch (fields as produced by the loader, already on the right device).
  virtual torch::Tensor forward(const TensorMap& batch) = 0;
  // Mean loss over the batch, for backward.
  virtual torch::Tensor loss(const torch::Tensor& output, const TensorMap& batch) = 0;
  // Adds this batch's metric sums (loss sum, correct counts, ...) to `sums`.
  virtual void accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                                  MetricSums& sums) = 0;
  // Names of the metrics the task reports, e.g. {"loss", "top1", "top5"}.
  virtual std::vector<std::string> metric_names() const = 0;
  // The metrics an epoch's log line shows, in order (metrics.csv and summary.json record them all).
  virtual std::vector<std::string> headline_metrics() const { return metric_names(); }
  // Names of the sums accumulate_metrics produces, in a fixed order (ranks reduce them packed together).
  // Default: the reported metrics themselves, each a sum divided by the sample count.
  virtual std::vector<std::string> sum_names() const { return metric_names(); }
  // The reported metrics from sums reduced over every batch and rank. Default: sums.averages(). Tasks
  // whose metrics are not averages (F1 from per-class counts) derive them here.
  virtual std::map<std::string, double> metrics(const MetricSums& sums) const { return sums.averages(); }
  // Whether a larger value of `metric` is better (accuracy) or smaller (loss).
  virtual bool higher_is_better(const std::string& metric) const = 0;
  // Prediction outputs this task offers, e.g. {"labels", "probabilities", "logits"}; first is the default.
  virtual std::vector<std::string> output_kinds() const = 0;
  // Turns forward() output into one output kind: labels int64 [B]; probabilities/logits float [B, classes].
  virtual torch::Tensor predict(const torch::Tensor& output, const std::string& kind) = 0;
  // The job's ranks, for a training loss over the global batch (SimCLR's negatives); the trainer sets
  // them when there is more than one rank, and they outlive the training. Default: not needed.
  virtual void set_peers(RankPeers* /*peers*/) {}
};

// What model to build; CLI flags and YAML keys map onto these fields one to one.
struct ModelOptions {
  std::string task = "auto";       // task registry name; auto: the dataset manifest's task
  std::string backbone = "auto";   // backbone registry name (`strike list backbones`); auto: the task's default
                                   // (small_cnn for images, mlp for tables, bag_of_embeddings for text)
  std::string head = "linear";                // head registry name
  std::string stem = "auto";                  // resnet stem: "imagenet", "small" (3x3, no max-pool) or "auto" (small below 64 px)
  double label_smoothing = 0.0;               // cross-entropy label smoothing in [0, 1)
  double dropout = 0.0;                       // dropout before the head
  int64_t embedding_dim = 128;                // image_embedding: width of the L2-normalized embedding
  std::string objective = "supervised";       // image_embedding: supervised (normalized-softmax over class
                                              // proxies) or simclr (NT-Xent between two augmented views)
};

}  // namespace strike::tasks
