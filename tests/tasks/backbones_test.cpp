// Backbones: output shapes, torchvision-identical ResNet state_dict names/shapes, small_cnn speed.
#include "tasks/backbones/backbone.h"
#include "tasks/backbones/resnet.h"
#include "tasks/backbones/small_cnn.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace strike::tasks {
namespace {

TEST(Backbones, RegistryListsAll) {
  EXPECT_EQ(backbones().names(), (std::vector<std::string>{"small_cnn", "resnet18", "resnet34", "resnet50"}));
}

TEST(Backbones, OutputShapes) {
  torch::NoGradGuard no_grad;
  const std::map<std::string, int64_t> dims = {{"small_cnn", 256}, {"resnet18", 512}, {"resnet34", 512}, {"resnet50", 2048}};
  for (const auto& [name, dim] : dims) {
    for (auto [channels, size] : std::vector<std::pair<int64_t, int64_t>>{{1, 28}, {3, 64}}) {
      BackboneOptions o;
      o.in_channels = channels;
      o.image_size = size;
      auto backbone = backbones().create(name, o);
      backbone->eval();
      EXPECT_EQ(backbone->feature_dim(), dim) << name;
      auto features = backbone->forward(torch::randn({2, channels, size, size}));
      EXPECT_EQ(features.sizes(), (std::vector<int64_t>{2, dim})) << name << " " << channels << "x" << size;
    }
  }
}

TEST(Backbones, ResNetStemChoice) {
  BackboneOptions o;
  o.in_channels = 1;
  o.image_size = 28;
  ResNet small(18, o);
  EXPECT_TRUE(small.small_stem());
  EXPECT_EQ(small.named_parameters()["conv1.weight"].sizes(), (std::vector<int64_t>{64, 1, 3, 3}));
  o.image_size = 64;
  EXPECT_FALSE(ResNet(18, o).small_stem());
  o.stem = "small";
  EXPECT_TRUE(ResNet(18, o).small_stem());
  o.stem = "imagenet";
  o.image_size = 28;
  EXPECT_FALSE(ResNet(18, o).small_stem());
  o.stem = "tiny";
  EXPECT_THROW(ResNet(18, o), UsageError);
  EXPECT_THROW(ResNet(101, BackboneOptions{}), UsageError);
}

TEST(Backbones, TorchvisionInit) {
  ResNet net(18, BackboneOptions{});
  auto params = net.named_parameters();
  EXPECT_TRUE(params["bn1.weight"].eq(1).all().item<bool>());
  EXPECT_TRUE(params["layer1.0.bn2.bias"].eq(0).all().item<bool>());
  // kaiming_normal fan_out: std = sqrt(2 / (out_channels * k * k)).
  double std = params["layer4.0.conv2.weight"].std().item<double>();
  EXPECT_NEAR(std, std::sqrt(2.0 / (512 * 9)), 0.002);
}

// "key dim dim ..." lines per model, from torchvision itself.
std::map<std::string, std::map<std::string, std::vector<int64_t>>> torchvision_keys() {
  std::map<std::string, std::map<std::string, std::vector<int64_t>>> out;
  if (access("/usr/bin/python3", X_OK) != 0) return out;
  const char* command =
      "/usr/bin/python3 -c \"import torchvision\n"
      "for n in ['resnet18', 'resnet34', 'resnet50']:\n"
      "  print('#', n)\n"
      "  for k, v in getattr(torchvision.models, n)().state_dict().items():\n"
      "    print(k, *v.shape)\" 2>/dev/null";
  FILE* pipe = popen(command, "r");
  if (!pipe) return out;
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) text.append(buffer, n);
  if (pclose(pipe) != 0) return {};
  std::istringstream lines(text);
  std::string line, model;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "#") {
      words >> model;
      continue;
    }
    if (key.rfind("fc.", 0) == 0) continue;
    std::vector<int64_t> shape;
    for (int64_t d; words >> d;) shape.push_back(d);
    out[model][key] = shape;
  }
  return out;
}

TEST(Backbones, ResNetKeysMatchTorchvision) {
  auto expected = torchvision_keys();
  if (expected.empty()) GTEST_SKIP() << "/usr/bin/python3 with torchvision is not available";
  for (int depth : {18, 34, 50}) {
    std::string name = "resnet" + std::to_string(depth);
    BackboneOptions o;
    o.in_channels = 3;
    o.image_size = 224;
    o.stem = "imagenet";
    ResNet net(depth, o);
    std::map<std::string, std::vector<int64_t>> actual;
    for (const auto& p : net.named_parameters()) actual[p.key()] = p.value().sizes().vec();
    for (const auto& b : net.named_buffers()) actual[b.key()] = b.value().sizes().vec();
    ASSERT_EQ(expected[name].size(), actual.size()) << name;
    EXPECT_EQ(expected[name], actual) << name;
  }
}

// Not a pass/fail figure (it depends on the machine); recorded so regressions show in the test log.
TEST(SmallCnn, Throughput) {
  int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  BackboneOptions o;
  o.in_channels = 1;
  o.image_size = 28;
  SmallCnn net(o);
  auto x = torch::randn({128, 1, 28, 28});
  auto step = [&] { net.forward(x).sum().backward(); };
  for (int i = 0; i < 3; ++i) step();
  const int iters = 10;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) step();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double rate = 128.0 * iters / seconds;
  std::cout << "small_cnn forward+backward, batch 128, 1x28x28, 2 threads: " << rate << " samples/s\n";
  RecordProperty("samples_per_sec", std::to_string(rate));
  torch::set_num_threads(threads);
  EXPECT_GT(rate, 50.0);
}

}  // namespace
}  // namespace strike::tasks
