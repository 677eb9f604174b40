// small_cnn's layers and forward pass.
#include "tasks/backbones/small_cnn.h"

#include "tasks/backbones/init.h"

namespace strike::tasks {

namespace {
constexpr int64_t kGrid = 7;  // spatial side seen by the fc convolution (28 px / 4)

torch::nn::Conv2dOptions conv(int64_t in, int64_t out, int64_t kernel, int64_t padding) {
  return torch::nn::Conv2dOptions(in, out, kernel).padding(padding).bias(false);  // BN follows: no bias
}
}  // namespace

SmallCnn::SmallCnn(const BackboneOptions& options) {
  conv1_ = register_module("conv1", torch::nn::Conv2d(conv(options.in_channels, 32, 3, 1)));
  bn1_ = register_module("bn1", SyncableBatchNorm2d(32));
  conv2_ = register_module("conv2", torch::nn::Conv2d(conv(32, 64, 3, 1)));
  bn2_ = register_module("bn2", SyncableBatchNorm2d(64));
  conv3_ = register_module("conv3", torch::nn::Conv2d(conv(64, 64, 3, 1)));
  bn3_ = register_module("bn3", SyncableBatchNorm2d(64));
  fc_ = register_module("fc", torch::nn::Conv2d(conv(64, kFeatures, kGrid, 0)));
  fc_bn_ = register_module("fc_bn", SyncableBatchNorm2d(kFeatures));
  init_like_torchvision(*this);
}

torch::Tensor SmallCnn::forward(torch::Tensor x) {
  namespace F = torch::nn::functional;
  auto pool = [](const torch::Tensor& t) { return F::max_pool2d(t, F::MaxPool2dFuncOptions(2)); };
  // Normalise and rectify at full resolution before pooling: pooling first ran ~20% faster but
  // trained to ~0.7 points lower Fashion-MNIST accuracy at equal epochs.
  x = pool(bn1_->forward(conv1_->forward(x)).relu_());
  x = bn2_->forward(conv2_->forward(x)).relu_();
  x = pool(bn3_->forward(conv3_->forward(x)).relu_());
  if (x.size(2) != kGrid || x.size(3) != kGrid) x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({kGrid, kGrid}));
  x = fc_bn_->forward(fc_->forward(x)).relu_();
  return x.flatten(1);
}

}  // namespace strike::tasks
