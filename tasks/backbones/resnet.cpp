// ResNet blocks and stems, laid out exactly like torchvision.models.resnet.
#include "tasks/backbones/resnet.h"

#include "core/error.h"
#include "tasks/backbones/init.h"

namespace strike::tasks {

namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

// torchvision's `downsample`: conv1x1 + BN when the shortcut changes shape.
torch::nn::Sequential downsample(int64_t in, int64_t out, int64_t stride) {
  if (stride == 1 && in == out) return nullptr;
  return torch::nn::Sequential(conv(in, out, 1, stride), SyncableBatchNorm2d(out));
}

class BasicBlock : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t in, int64_t planes, int64_t stride) {
    conv1_ = register_module("conv1", conv(in, planes, 3, stride));
    bn1_ = register_module("bn1", SyncableBatchNorm2d(planes));
    conv2_ = register_module("conv2", conv(planes, planes, 3, 1));
    bn2_ = register_module("bn2", SyncableBatchNorm2d(planes));
    if (auto d = downsample(in, planes, stride)) downsample_ = register_module("downsample", d);
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
    torch::Tensor out = bn1_->forward(conv1_->forward(x)).relu_();
    out = bn2_->forward(conv2_->forward(out));
    return (out += identity).relu_();
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  SyncableBatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};

// torchvision's ResNet v1.5 bottleneck: the stride sits on the 3x3 convolution.
class Bottleneck : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t in, int64_t planes, int64_t stride) {
    conv1_ = register_module("conv1", conv(in, planes, 1, 1));
    bn1_ = register_module("bn1", SyncableBatchNorm2d(planes));
    conv2_ = register_module("conv2", conv(planes, planes, 3, stride));
    bn2_ = register_module("bn2", SyncableBatchNorm2d(planes));
    conv3_ = register_module("conv3", conv(planes, planes * kExpansion, 1, 1));
    bn3_ = register_module("bn3", SyncableBatchNorm2d(planes * kExpansion));
    if (auto d = downsample(in, planes * kExpansion, stride)) downsample_ = register_module("downsample", d);
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
    torch::Tensor out = bn1_->forward(conv1_->forward(x)).relu_();
    out = bn2_->forward(conv2_->forward(out)).relu_();
    out = bn3_->forward(conv3_->forward(out));
    return (out += identity).relu_();
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  SyncableBatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};

// One stage: `blocks` blocks, the first with `stride`; advances `in` to the stage's output width.
template <typename Block>
torch::nn::Sequential make_layer(int64_t& in, int64_t planes, int64_t blocks, int64_t stride) {
  torch::nn::Sequential layer;
  for (int64_t i = 0; i < blocks; ++i) {
    layer->push_back(std::make_shared<Block>(in, planes, i == 0 ? stride : 1));
    in = planes * Block::kExpansion;
  }
  return layer;
}

bool use_small_stem(const BackboneOptions& o) {
  if (o.stem == "small") return true;
  if (o.stem == "imagenet") return false;
  if (o.stem == "auto") return o.image_size < 64;
  throw UsageError("unknown stem '" + o.stem + "'; known stems: imagenet, small, auto");
}

}  // namespace

ResNet::ResNet(int depth, const BackboneOptions& options) : small_stem_(use_small_stem(options)) {
  std::vector<int64_t> blocks;
  bool bottleneck = depth >= 50;
  if (depth == 18) blocks = {2, 2, 2, 2};
  else if (depth == 34 || depth == 50) blocks = {3, 4, 6, 3};
  else throw UsageError("unsupported ResNet depth " + std::to_string(depth) + "; supported: 18, 34, 50");

  conv1_ = register_module("conv1", small_stem_ ? conv(options.in_channels, 64, 3, 1) : conv(options.in_channels, 64, 7, 2));
  bn1_ = register_module("bn1", SyncableBatchNorm2d(64));
  int64_t in = 64;
  auto layer = [&](int64_t planes, int64_t n, int64_t stride) {
    return bottleneck ? make_layer<Bottleneck>(in, planes, n, stride) : make_layer<BasicBlock>(in, planes, n, stride);
  };
  layer1_ = register_module("layer1", layer(64, blocks[0], 1));
  layer2_ = register_module("layer2", layer(128, blocks[1], 2));
  layer3_ = register_module("layer3", layer(256, blocks[2], 2));
  layer4_ = register_module("layer4", layer(512, blocks[3], 2));
  feature_dim_ = in;
  init_like_torchvision(*this);
}

torch::Tensor ResNet::forward(torch::Tensor x) {
  namespace F = torch::nn::functional;
  x = bn1_->forward(conv1_->forward(x)).relu_();
  if (!small_stem_) x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  x = layer4_->forward(layer3_->forward(layer2_->forward(layer1_->forward(x))));
  return F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
}

}  // namespace strike::tasks
