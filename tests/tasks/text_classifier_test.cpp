// text_classification: the task from a text manifest, both text backbones, padding that changes
// nothing, per-class precision/recall/F1 and macro F1, and the manifest checks.
#include "tasks/text_classifier.h"
#include "tasks/task_factory.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace strike::tasks {
namespace {

// As `strike data convert --source text_folder` writes it: ragged int32 tokens, a 50-piece tokenizer.
core::Manifest text_manifest(std::vector<std::string> classes = {"ham", "spam"}) {
  core::Manifest m;
  m.task = "text_classification";
  m.fields = {{"tokens", "int32", {-1}}, {"label", "int64", {}}};
  m.class_names = std::move(classes);
  m.extra["max_tokens"] = 16;
  m.extra["tokenizer"] = {{"file", "tokenizer.model"}, {"pieces", 50}, {"pad_id", 0}, {"unk_id", 1}};
  return m;
}

// Rows of lengths 3, 5, 1 and 8, padded with 0 to the longest.
TensorMap batch(int64_t width = 8) {
  torch::manual_seed(5);
  auto tokens = torch::zeros({4, width}, torch::kInt64);
  const std::vector<int64_t> lengths = {3, 5, 1, 8};
  for (int64_t b = 0; b < 4; ++b) tokens[b].narrow(0, 0, lengths[b]).copy_(torch::randint(2, 50, {lengths[b]}));
  return {{"tokens", tokens}, {"tokens_length", torch::tensor(lengths, torch::kInt64)},
          {"label", torch::tensor({0, 1, 1, 0}, torch::kInt64)}};
}

TEST(TextClassifier, AutoPicksTheManifestsTaskAndTheBagOfEmbeddings) {
  ModelOptions r = resolve_model(ModelOptions{}, text_manifest());
  EXPECT_EQ(r.task, "text_classification");
  EXPECT_EQ(r.backbone, "bag_of_embeddings");
  auto task = make_task(ModelOptions{}, text_manifest());
  EXPECT_EQ(task->name(), "text_classification");
  EXPECT_EQ(task->metric_names(), (std::vector<std::string>{"loss", "top1", "macro_f1", "precision_ham", "recall_ham",
                                                            "f1_ham", "precision_spam", "recall_spam", "f1_spam"}));
}

TEST(TextClassifier, BothBackbonesTrainEveryParameter) {
  for (const char* backbone : {"bag_of_embeddings", "transformer"}) {
    ModelOptions o;
    o.backbone = backbone;
    auto task = make_task(o, text_manifest());
    const TensorMap b = batch();
    torch::Tensor logits = task->forward(b);
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{4, 2})) << backbone;
    task->loss(logits, b).backward();
    for (const auto& p : task->model().named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << backbone << " " << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << backbone << " " << p.key();
    }
  }
}

TEST(TextClassifier, PaddingChangesNothingAndGetsNoGradient) {
  for (const char* backbone : {"bag_of_embeddings", "transformer"}) {
    ModelOptions o;
    o.backbone = backbone;
    auto task = make_task(o, text_manifest());
    task->model().eval();
    const TensorMap narrow = batch(8);
    TensorMap wide = narrow;
    wide["tokens"] = torch::cat({narrow.at("tokens"), torch::zeros({4, 8}, torch::kInt64)}, 1);  // 16 columns
    auto a = task->forward(narrow), b = task->forward(wide);
    EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << backbone << "\n" << a << "\n" << b;
    // A row whose padding held other ids would differ if padding were read: fill it with id 7.
    TensorMap noisy = narrow;
    noisy["tokens"] = narrow.at("tokens").clone();
    noisy["tokens"][0].narrow(0, 3, 5).fill_(7);
    EXPECT_TRUE(torch::allclose(task->forward(noisy), a, 1e-5, 1e-6)) << backbone;
  }
  ModelOptions o;  // bag_of_embeddings: the pad row stays zero and gets no gradient
  auto task = make_task(o, text_manifest());
  const TensorMap b = batch();
  task->loss(task->forward(b), b).backward();
  auto weight = task->model().named_parameters()["backbone.embedding.weight"];
  EXPECT_EQ(weight[0].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(weight.grad()[0].abs().sum().item<double>(), 0.0);
}

TEST(TextClassifier, RowsOfLengthZeroGiveFiniteOutputs) {
  for (const char* backbone : {"bag_of_embeddings", "transformer"}) {
    ModelOptions o;
    o.backbone = backbone;
    auto task = make_task(o, text_manifest());
    TensorMap b = batch();
    b["tokens_length"] = torch::tensor({3, 0, 1, 8}, torch::kInt64);
    EXPECT_TRUE(torch::isfinite(task->forward(b)).all().item<bool>()) << backbone;
  }
}

// Three classes; logits pick argmax = predicted. Actual a a a b b c, predicted a a b b c c:
// a: tp 2, predicted 2, actual 3 -> P 1, R 2/3, F1 0.8; b: tp 1, predicted 2, actual 2 -> 0.5, 0.5, 0.5;
// c: tp 1, predicted 2, actual 1 -> 0.5, 1, 2/3.
TEST(TextClassifier, PerClassPrecisionRecallF1AndMacroF1ReduceExactly) {
  auto task = make_task(ModelOptions{}, text_manifest({"a", "b", "c"}));
  auto labels = torch::tensor({0, 0, 0, 1, 1, 2}, torch::kInt64);
  auto predicted = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kInt64);
  auto logits = torch::one_hot(predicted, 3).to(torch::kFloat32) * 4;
  MetricSums whole, first, second;
  task->accumulate_metrics(logits, {{"label", labels}}, {}, whole);
  // Split in two batches, as two ranks would see them: the added sums give the same metrics.
  task->accumulate_metrics(logits.narrow(0, 0, 4), {{"label", labels.narrow(0, 0, 4)}}, {}, first);
  task->accumulate_metrics(logits.narrow(0, 4, 2), {{"label", labels.narrow(0, 4, 2)}}, {}, second);
  first.add(second);
  for (const MetricSums* sums : {&whole, &first}) {
    auto m = task->metrics(*sums);
    EXPECT_DOUBLE_EQ(m.at("top1"), 4.0 / 6);
    EXPECT_DOUBLE_EQ(m.at("precision_a"), 1.0);
    EXPECT_DOUBLE_EQ(m.at("recall_a"), 2.0 / 3);
    EXPECT_DOUBLE_EQ(m.at("f1_a"), 0.8);
    EXPECT_DOUBLE_EQ(m.at("f1_b"), 0.5);
    EXPECT_DOUBLE_EQ(m.at("precision_c"), 0.5);
    EXPECT_DOUBLE_EQ(m.at("recall_c"), 1.0);
    EXPECT_NEAR(m.at("macro_f1"), (0.8 + 0.5 + 2.0 / 3) / 3, 1e-12);
    EXPECT_EQ(m.count("top5"), 0u);  // three classes: top-5 is always 1 and is not reported
    EXPECT_EQ(m.count("tp_a"), 0u);  // counts are inputs, not metrics
  }
  auto names = task->sum_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "predicted_c"), names.end());
}

TEST(TextClassifier, AClassNeverPredictedScoresZeroNotNaN) {
  auto task = make_task(ModelOptions{}, text_manifest());
  auto logits = torch::tensor({{3.0f, 0.0f}, {3.0f, 0.0f}});
  MetricSums sums;
  task->accumulate_metrics(logits, {{"label", torch::tensor({0, 1}, torch::kInt64)}}, {}, sums);
  auto m = task->metrics(sums);
  EXPECT_EQ(m.at("precision_spam"), 0.0);
  EXPECT_EQ(m.at("f1_spam"), 0.0);
  EXPECT_NEAR(m.at("macro_f1"), (2.0 / 3 + 0.0) / 2, 1e-12);
}

TEST(TextClassifier, ClassNamesBecomeSafeUniqueMetricNames) {
  auto task = make_task(ModelOptions{}, text_manifest({"not spam", "not-spam", ""}));
  auto names = task->metric_names();
  for (const char* expected : {"f1_not_spam", "f1_1", "f1_2"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(TextClassifier, ManifestProblemsAreNamed) {
  core::Manifest m = text_manifest();
  m.extra.erase("tokenizer");
  EXPECT_THROW(make_task(ModelOptions{}, m), Error);
  ModelOptions o;
  o.backbone = "transformer";
  auto task = make_task(o, text_manifest());  // positions for 16 tokens
  TensorMap b = batch(20);
  try {
    task->forward(b);
    FAIL() << "20 tokens fit 16 positions";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("16"), std::string::npos) << e.what();
  }
  o.backbone = "small_cnn";  // an image backbone for text: the registry lists the text ones
  try {
    make_task(o, text_manifest());
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("bag_of_embeddings"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strike::tasks
