// image_embedding: an image backbone without its head plus a projection to an L2-normalized embedding.
#pragma once
#include "tasks/backbones/backbone.h"
#include "tasks/task.h"

#include <memory>
#include <string>

namespace strike::tasks {

struct EmbedderOptions {
  int64_t dim = 128;                    // embedding width
  std::string objective = "supervised";  // supervised or simclr
  int64_t num_classes = 0;              // supervised: one proxy per class
  double scale = 16.0;                  // supervised: logits are scale x cosine(embedding, proxy) (NormFace)
  double temperature = 0.2;             // simclr: NT-Xent temperature
};

// Children "backbone" (an image backbone; its checkpoint keys match image_classification's, so a classifier's
// backbone can start it), "projection" (Linear feature_dim -> dim) and, for the supervised objective,
// the parameter "proxies" [classes, dim]. forward() gives embeddings [B, dim] of unit length; with the simclr
// objective, in training mode, it embeds two augmented views of every image: [2B, dim], view 1 then view 2.
// Metrics: "loss" and "top1" (supervised: the nearest proxy is the label's; simclr: the nearest other
// embedding is the image's other view).
class ImageEmbedder : public Task {
 public:
  ImageEmbedder(std::shared_ptr<Backbone> backbone, EmbedderOptions options);

  std::string name() const override { return "image_embedding"; }
  torch::nn::Module& model() override { return *model_; }
  torch::Tensor forward(const TensorMap& batch) override;
  torch::Tensor loss(const torch::Tensor& output, const TensorMap& batch) override;
  void accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                          MetricSums& sums) override;
  std::vector<std::string> metric_names() const override { return {"loss", "top1"}; }
  bool higher_is_better(const std::string& metric) const override { return metric != "loss"; }
  std::vector<std::string> output_kinds() const override { return {"embeddings"}; }
  torch::Tensor predict(const torch::Tensor& output, const std::string& kind) override;
  // With peers, simclr training takes its negatives from every rank's batch, as one rank with the
  // global batch would.
  void set_peers(RankPeers* peers) override { peers_ = peers; }

  // Unit-length embeddings of `images` [B, C, H, W], no augmentation.
  torch::Tensor embed(const torch::Tensor& images);
  const EmbedderOptions& options() const { return options_; }

 private:
  // The objective's logits and targets for `output` (forward()'s result on `batch`).
  std::pair<torch::Tensor, torch::Tensor> logits_and_targets(const torch::Tensor& output, const TensorMap& batch);
  const torch::Tensor& images(const TensorMap& batch) const;

  EmbedderOptions options_;
  std::shared_ptr<torch::nn::Module> model_;
  std::shared_ptr<Backbone> backbone_;
  torch::nn::Linear projection_{nullptr};
  torch::Tensor proxies_;
  RankPeers* peers_ = nullptr;
};

// Two random views of a batch of normalized images for contrastive learning: a random resized crop (scale
// 0.5-1 of the side, any position), a horizontal flip with p = 0.5 and a brightness/contrast jitter, drawn per
// image from `generator` (CPU) and applied with one grid_sample. Returns [2B, C, H, W]: view 1 then view 2.
torch::Tensor two_views(const torch::Tensor& images, at::Generator generator);

// NT-Xent (SimCLR): similarities of every embedding in z [2B, dim] (unit length) to every other over the
// temperature; row i's target is its other view (i + B mod 2B). Returns {logits [2B, 2B], targets [2B]}.
std::pair<torch::Tensor, torch::Tensor> nt_xent_logits(const torch::Tensor& z, double temperature);
// The same for this rank's z [2B, dim] against every rank's, `all` [R * 2B, dim], in which z's rows start
// at `offset`: logits [2B, R * 2B], targets offset + (i + B mod 2B).
std::pair<torch::Tensor, torch::Tensor> nt_xent_logits(const torch::Tensor& z, const torch::Tensor& all, int64_t offset,
                                                       double temperature);

}  // namespace strike::tasks
