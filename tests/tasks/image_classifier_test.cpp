// ImageClassifier loss/metrics/outputs, make_task, the registries' errors and `strike list` output.
#include "tasks/image_classifier.h"
#include "tasks/task_factory.h"

#include <gtest/gtest.h>

#include <sstream>

namespace strike::tasks {
namespace {

core::Manifest manifest(int64_t channels, int64_t size, int classes) {
  core::Manifest m;
  m.task = "image_classification";
  m.fields = {{"image", "uint8", {channels, size, size}}, {"label", "int64", {}}};
  for (int i = 0; i < classes; ++i) m.class_names.push_back("class" + std::to_string(i));
  return m;
}

std::unique_ptr<Task> small_task(double label_smoothing = 0.0, int classes = 6) {
  ModelOptions o;
  o.label_smoothing = label_smoothing;
  return make_task(o, manifest(1, 28, classes));
}

// Row 0: label is the top logit; row 1: third highest; row 2: the lowest of six.
torch::Tensor logits() {
  return torch::tensor({{5.0, 1.0, 0.5, 0.2, 0.1, 0.0},
                        {0.3, 2.0, 1.0, 0.1, 3.0, -1.0},
                        {1.0, 2.0, 3.0, 4.0, 5.0, -2.0}});
}
TensorMap labels() { return {{"label", torch::tensor({0, 2, 5}, torch::kInt64)}}; }

TEST(ImageClassifier, MetricsCountExactly) {
  auto task = small_task();
  auto loss = task->loss(logits(), labels());
  MetricSums sums;
  task->accumulate_metrics(logits(), labels(), loss, sums);
  task->accumulate_metrics(logits(), labels(), loss, sums);
  EXPECT_EQ(sums.count, 6);
  EXPECT_EQ(sums.sums["top1"], 2);
  EXPECT_EQ(sums.sums["top5"], 4);
  double expected = torch::nn::functional::cross_entropy(
                        logits(), labels()["label"], torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                        .item<double>();
  EXPECT_NEAR(sums.sums["loss"], 2 * expected, 1e-5);
  auto avg = sums.averages();
  EXPECT_NEAR(avg["top1"], 1.0 / 3, 1e-12);
  EXPECT_NEAR(avg["top5"], 2.0 / 3, 1e-12);
  EXPECT_EQ(task->metric_names(), (std::vector<std::string>{"loss", "top1", "top5"}));
  EXPECT_TRUE(task->higher_is_better("top1"));
  EXPECT_FALSE(task->higher_is_better("loss"));
}

TEST(ImageClassifier, Top5WithFewerClasses) {
  auto task = small_task(0.0, 3);
  MetricSums sums;
  auto out = torch::tensor({{0.0, 1.0, 2.0}, {2.0, 1.0, 0.0}});
  TensorMap batch = {{"label", torch::tensor({0, 1}, torch::kInt64)}};
  task->accumulate_metrics(out, batch, task->loss(out, batch), sums);
  EXPECT_EQ(sums.sums["top1"], 0);
  EXPECT_EQ(sums.sums["top5"], 2);
}

TEST(ImageClassifier, LabelSmoothingMatchesLibTorch) {
  for (double s : {0.0, 0.1, 0.3}) {
    auto task = small_task(s);
    double loss = task->loss(logits(), labels()).item<double>();
    double expected = torch::nn::functional::cross_entropy(
                          logits(), labels()["label"], torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(s))
                          .item<double>();
    EXPECT_NEAR(loss, expected, 1e-6) << "smoothing " << s;
  }
}

TEST(ImageClassifier, ForwardAndOutputs) {
  auto task = small_task(0.0, 10);
  task->model().eval();
  torch::NoGradGuard no_grad;
  auto out = task->forward({{"image", torch::randn({4, 1, 28, 28})}});
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 10}));
  EXPECT_EQ(task->output_kinds(), (std::vector<std::string>{"labels", "probabilities", "logits"}));
  EXPECT_TRUE(task->predict(out, "labels").equal(out.argmax(1)));
  EXPECT_TRUE(task->predict(out, "probabilities").sum(1).allclose(torch::ones({4})));
  EXPECT_TRUE(task->predict(out, "logits").equal(out));
  EXPECT_THROW(task->predict(out, "embeddings"), UsageError);
  EXPECT_THROW(task->forward({{"pixels", torch::randn({1, 1, 28, 28})}}), Error);
}

TEST(ImageClassifier, CheckpointKeys) {
  ModelOptions o;
  o.backbone = "resnet18";
  auto task = make_task(o, manifest(3, 32, 10));
  auto params = task->model().named_parameters();
  ASSERT_TRUE(params.contains("backbone.conv1.weight"));
  EXPECT_EQ(params["backbone.conv1.weight"].sizes(), (std::vector<int64_t>{64, 3, 3, 3}));  // auto: small stem
  EXPECT_TRUE(params.contains("backbone.layer2.0.downsample.0.weight"));
  EXPECT_EQ(params["head.weight"].sizes(), (std::vector<int64_t>{10, 512}));
  EXPECT_EQ(params["head.bias"].sizes(), (std::vector<int64_t>{10}));
  auto buffers = task->model().named_buffers();
  EXPECT_TRUE(buffers.contains("backbone.layer4.1.bn2.num_batches_tracked"));
  for (const auto& p : params) {
    EXPECT_TRUE(p.key().rfind("backbone.", 0) == 0 || p.key().rfind("head.", 0) == 0) << p.key();
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no UsageError";
}

TEST(Registries, UnknownNamesListKnownOnes) {
  auto m = manifest(1, 28, 10);
  ModelOptions o;
  o.backbone = "vgg";
  std::string msg = error_of([&] { make_task(o, m); });
  for (const char* name : {"vgg", "small_cnn", "resnet18", "resnet34", "resnet50"}) EXPECT_NE(msg.find(name), std::string::npos) << msg;
  o = ModelOptions{};
  o.head = "mlp";
  msg = error_of([&] { make_task(o, m); });
  EXPECT_NE(msg.find("linear"), std::string::npos) << msg;
  o = ModelOptions{};
  o.task = "segmentation";
  msg = error_of([&] { make_task(o, m); });
  EXPECT_NE(msg.find("image_classification"), std::string::npos) << msg;
  o = ModelOptions{};
  o.backbone = "resnet18";
  o.stem = "huge";
  EXPECT_THROW(make_task(o, m), UsageError);
  EXPECT_EQ(task_names(), (std::vector<std::string>{"image_classification", "image_embedding", "tabular_classification", "text_classification"}));
}

TEST(Registries, PrintEveryRegistry) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"backbones", {"small_cnn", "resnet18", "resnet34", "resnet50", "mlp", "ft_transformer"}},
      {"heads", {"linear"}},
      {"optimizers", {"sgd", "adamw"}},
      {"schedulers", {"constant", "cosine", "onecycle", "step"}},
      {"tasks", {"image_classification", "image_embedding", "tabular_classification"}}};
  for (const auto& [what, names] : expected) {
    std::ostringstream out;
    print_registry(what, out);
    for (const auto& name : names) EXPECT_NE(out.str().find(name + " "), std::string::npos) << what << ": " << out.str();
  }
  std::ostringstream out;
  std::string msg = error_of([&] { print_registry("losses", out); });
  EXPECT_NE(msg.find("backbones"), std::string::npos) << msg;
}

TEST(MetricSums, AddAndAverage) {
  MetricSums a, b;
  a.sums = {{"loss", 3.0}, {"top1", 2.0}};
  a.count = 4;
  b.sums = {{"loss", 1.0}, {"top5", 1.0}};
  b.count = 4;
  a.add(b);
  EXPECT_EQ(a.count, 8);
  auto avg = a.averages();
  EXPECT_DOUBLE_EQ(avg["loss"], 0.5);
  EXPECT_DOUBLE_EQ(avg["top1"], 0.25);
  EXPECT_DOUBLE_EQ(avg["top5"], 0.125);
  EXPECT_EQ(MetricSums{}.averages().size(), 0u);
}

}  // namespace
}  // namespace strike::tasks
