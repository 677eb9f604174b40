// ImageEmbedder: projection and normalization, the supervised (NormFace) and simclr (NT-Xent) objectives.
#include "tasks/image_embedder.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/error.h"
#include "tasks/nn/cross_entropy.h"

namespace strike::tasks {

namespace F = torch::nn::functional;

namespace {
// Evaluation's views come from their own fixed seed, so validation metrics do not depend on (or move) the
// training generator, whose state checkpoints record.
constexpr uint64_t kEvalViewSeed = 0x5eed;
}  // namespace

torch::Tensor two_views(const torch::Tensor& images, at::Generator generator) {
  const int64_t b = images.size(0);
  const auto cpu = torch::TensorOptions().dtype(torch::kFloat32);
  auto uniform = [&](double lo, double hi) {
    return torch::empty({2 * b}, cpu).uniform_(lo, hi, generator);
  };
  // A crop of side `scale` (in [-1, 1] grid units, 2 = whole image) centred anywhere it fits, mirrored
  // by a negative x scale.
  torch::Tensor scale = uniform(std::sqrt(0.5), 1.0);
  torch::Tensor tx = (uniform(-1, 1)) * (1 - scale);
  torch::Tensor ty = (uniform(-1, 1)) * (1 - scale);
  torch::Tensor flip = torch::where(uniform(0, 1) < 0.5, torch::full({2 * b}, -1.0f, cpu), torch::ones({2 * b}, cpu));
  torch::Tensor zero = torch::zeros({2 * b}, cpu);
  torch::Tensor theta = torch::stack({torch::stack({scale * flip, zero, tx}, 1), torch::stack({zero, scale, ty}, 1)}, 1);
  torch::Tensor contrast = uniform(0.6, 1.4).view({2 * b, 1, 1, 1});
  torch::Tensor brightness = uniform(-0.4, 0.4).view({2 * b, 1, 1, 1});
  const auto to = images.options().dtype(torch::kFloat32);
  torch::Tensor both = torch::cat({images, images}).to(torch::kFloat32);
  torch::Tensor grid = F::affine_grid(theta.to(to.device()), both.sizes().vec(), /*align_corners=*/false);
  torch::Tensor views = F::grid_sample(both, grid, F::GridSampleFuncOptions().padding_mode(torch::kReflection).align_corners(false));
  return views * contrast.to(to.device()) + brightness.to(to.device());
}

std::pair<torch::Tensor, torch::Tensor> nt_xent_logits(const torch::Tensor& z, double temperature) {
  return nt_xent_logits(z, z, 0, temperature);
}

std::pair<torch::Tensor, torch::Tensor> nt_xent_logits(const torch::Tensor& z, const torch::Tensor& all, int64_t offset,
                                                       double temperature) {
  const int64_t n = z.size(0);
  require(n % 2 == 0 && n >= 4, "NT-Xent needs two views of at least two images");
  require(offset >= 0 && offset + n <= all.size(0), "NT-Xent: the local rows must lie inside the gathered ones");
  torch::Tensor logits = torch::matmul(z, all.t()) / temperature;
  // An embedding is not its own negative.
  const auto index = torch::TensorOptions().dtype(torch::kInt64).device(z.device());
  const torch::Tensor rows = torch::arange(n, index);
  torch::Tensor self = torch::zeros({n, all.size(0)}, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
  self.index_put_({rows, rows + offset}, true);
  logits = logits.masked_fill(self, -std::numeric_limits<float>::infinity());
  return {logits, (rows + n / 2) % n + offset};
}

ImageEmbedder::ImageEmbedder(std::shared_ptr<Backbone> backbone, EmbedderOptions options)
    : options_(std::move(options)), model_(std::make_shared<torch::nn::Module>("ImageEmbedder")), backbone_(std::move(backbone)) {
  require(options_.dim > 0, "--embedding-dim must be positive");
  require(options_.objective == "supervised" || options_.objective == "simclr",
          "unknown --objective '" + options_.objective + "'; known objectives: supervised, simclr");
  model_->register_module("backbone", backbone_);
  projection_ = model_->register_module("projection", torch::nn::Linear(backbone_->feature_dim(), options_.dim));
  if (options_.objective == "supervised") {
    require(options_.num_classes > 1, "the supervised objective needs labels of at least two classes");
    // Random unit-scale proxies: normalized in every use, so only their directions matter.
    proxies_ = model_->register_parameter("proxies", torch::randn({options_.num_classes, options_.dim}));
  }
}

const torch::Tensor& ImageEmbedder::images(const TensorMap& batch) const {
  auto it = batch.find("image");
  if (it == batch.end()) {
    throw Error("the batch has no field 'image'", "image_embedding", "embed an image dataset (`strike data convert`)");
  }
  return it->second;
}

torch::Tensor ImageEmbedder::embed(const torch::Tensor& x) {
  return F::normalize(projection_->forward(backbone_->forward(x)).to(torch::kFloat32), F::NormalizeFuncOptions().dim(1));
}

torch::Tensor ImageEmbedder::forward(const TensorMap& batch) {
  const torch::Tensor& x = images(batch);
  if (options_.objective == "simclr" && model_->is_training()) {
    return embed(two_views(x, at::detail::getDefaultCPUGenerator()));
  }
  return embed(x);
}

std::pair<torch::Tensor, torch::Tensor> ImageEmbedder::logits_and_targets(const torch::Tensor& output,
                                                                          const TensorMap& batch) {
  if (options_.objective == "supervised") {
    auto it = batch.find("label");
    if (it == batch.end()) throw Error("the supervised objective needs a 'label' field", "image_embedding");
    const torch::Tensor proxies = F::normalize(proxies_, F::NormalizeFuncOptions().dim(1));
    return {options_.scale * torch::matmul(output, proxies.t()), it->second};
  }
  torch::Tensor z = output;
  if (z.size(0) == images(batch).size(0)) {
    // Evaluation embeds single images; its contrastive loss needs the two views, from a fixed seed.
    torch::NoGradGuard no_grad;
    z = embed(two_views(images(batch), at::make_generator<at::CPUGeneratorImpl>(kEvalViewSeed)));
  } else if (peers_ && peers_->size() > 1) {
    // Training: negatives from the global batch. Every rank's training batch has the same size.
    return nt_xent_logits(z, gather_with_grad(*peers_, z), peers_->rank() * z.size(0), options_.temperature);
  }
  return nt_xent_logits(z, options_.temperature);
}

torch::Tensor ImageEmbedder::loss(const torch::Tensor& output, const TensorMap& batch) {
  auto [logits, targets] = logits_and_targets(output, batch);
  return cross_entropy(logits, targets, 0.0);
}

void ImageEmbedder::accumulate_metrics(const torch::Tensor& output, const TensorMap& batch, const torch::Tensor& loss,
                                       MetricSums& sums) {
  torch::NoGradGuard no_grad;
  auto [logits, targets] = logits_and_targets(output, batch);
  const int64_t rows = logits.size(0);
  const double batch_loss = loss.defined() ? loss.item<double>() : cross_entropy(logits, targets, 0.0).item<double>();
  // Per image (not per view), so train and validation counts match the batch.
  const double images_in_batch = static_cast<double>(images(batch).size(0));
  const double right = logits.argmax(1).eq(targets).sum().item<double>();
  sums.sums["loss"] += batch_loss * images_in_batch;
  sums.sums["top1"] += right * images_in_batch / static_cast<double>(rows);
  sums.count += images_in_batch;
}

torch::Tensor ImageEmbedder::predict(const torch::Tensor& output, const std::string& kind) {
  if (kind == "embeddings") return output;
  throw UsageError("unknown output '" + kind + "' for image_embedding; known outputs: embeddings");
}

}  // namespace strike::tasks
