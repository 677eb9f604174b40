// tabular_classification: the task from a CSV manifest, both tabular backbones, the unknown category,
// auto task/backbone resolution and the manifest checks.
#include "tasks/tabular_classifier.h"
#include "tasks/task_factory.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace strike::tasks {
namespace {

// Two numeric values + one missing indicator, and two categorical columns of vocabulary 5 and 3
// (<unknown>, <missing>, then the train values), as `strike data convert` writes a CSV's manifest.
core::Manifest tabular_manifest() {
  core::Manifest m;
  m.task = "tabular_classification";
  m.fields = {{"numeric", "float32", {3}}, {"categorical", "int64", {2}}, {"label", "int64", {}}};
  m.class_names = {"a", "b", "c"};
  m.extra["schema"] = {
      {"target", "species"},
      {"columns",
       {{{"name", "island"}, {"kind", "categorical"}, {"position", 0}, {"vocabulary", {"<unknown>", "<missing>", "x", "y", "z"}}},
        {{"name", "bill"}, {"kind", "numeric"}, {"position", 0}},
        {{"name", "sex"}, {"kind", "categorical"}, {"position", 1}, {"vocabulary", {"<unknown>", "<missing>", "m"}}},
        {{"name", "mass"}, {"kind", "numeric"}, {"position", 1}}}}};
  return m;
}

TensorMap batch() {
  torch::manual_seed(3);
  return {{"numeric", torch::randn({6, 3})},
          {"categorical", torch::tensor({{2, 2}, {3, 1}, {4, 2}, {0, 0}, {1, 2}, {2, 1}}, torch::kInt64)},
          {"label", torch::tensor({0, 1, 2, 0, 1, 2}, torch::kInt64)}};
}

TEST(TabularClassifier, AutoPicksTheManifestsTaskAndTheMlp) {
  ModelOptions o;  // task and backbone "auto"
  ModelOptions r = resolve_model(o, tabular_manifest());
  EXPECT_EQ(r.task, "tabular_classification");
  EXPECT_EQ(r.backbone, "mlp");
  core::Manifest images;
  images.task = "image_classification";
  EXPECT_EQ(resolve_model(o, images).backbone, "small_cnn");
  o.backbone = "ft_transformer";
  EXPECT_EQ(resolve_model(o, tabular_manifest()).backbone, "ft_transformer");
  auto task = make_task(ModelOptions{}, tabular_manifest());
  EXPECT_EQ(task->name(), "tabular_classification");
}

TEST(TabularClassifier, BothBackbonesTrainEveryParameter) {
  for (const char* backbone : {"mlp", "ft_transformer"}) {
    ModelOptions o;
    o.backbone = backbone;
    auto task = make_task(o, tabular_manifest());
    const TensorMap b = batch();
    torch::Tensor logits = task->forward(b);
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{6, 3})) << backbone;
    task->loss(logits, b).backward();
    for (const auto& p : task->model().named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << backbone << " " << p.key();
      // Row 0 of an embedding is <unknown>; the batch's row 3 uses it, so only the other rows are checked.
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << backbone << " " << p.key();
    }
    MetricSums sums;
    task->accumulate_metrics(logits, b, task->loss(logits, b), sums);
    EXPECT_EQ(sums.count, 6);
  }
}

TEST(TabularClassifier, UnseenCategoriesStartAtZeroAndChangeNothingForTheMlp) {
  auto task = make_task(ModelOptions{}, tabular_manifest());
  auto params = task->model().named_parameters();
  ASSERT_TRUE(params.contains("backbone.emb0.weight"));
  EXPECT_EQ(params["backbone.emb0.weight"].sizes(), (std::vector<int64_t>{5, 3}));  // min(16, (5 + 1) / 2) dims
  EXPECT_EQ(params["backbone.emb0.weight"][0].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(params["backbone.emb1.weight"][0].abs().sum().item<double>(), 0.0);
  // The unknown row gets no gradient from rows that never hold index 0.
  TensorMap b = batch();
  b["categorical"] = torch::tensor({{2, 2}, {3, 1}}, torch::kInt64);
  b["numeric"] = b["numeric"].narrow(0, 0, 2);
  b["label"] = b["label"].narrow(0, 0, 2);
  task->loss(task->forward(b), b).backward();
  EXPECT_EQ(params["backbone.emb0.weight"].grad()[0].abs().sum().item<double>(), 0.0);
}

TEST(TabularClassifier, NumericOnlyAndCategoricalOnlyTables) {
  core::Manifest numeric_only = tabular_manifest();
  numeric_only.fields = {{"numeric", "float32", {3}}, {"label", "int64", {}}};
  numeric_only.extra["schema"]["columns"] = nlohmann::json::array();
  for (const char* backbone : {"mlp", "ft_transformer"}) {
    ModelOptions o;
    o.backbone = backbone;
    auto task = make_task(o, numeric_only);
    EXPECT_EQ(task->forward({{"numeric", torch::randn({4, 3})}}).sizes(), (std::vector<int64_t>{4, 3})) << backbone;
  }
  core::Manifest categorical_only = tabular_manifest();
  categorical_only.fields = {{"categorical", "int64", {2}}, {"label", "int64", {}}};
  auto task = make_task(ModelOptions{}, categorical_only);
  EXPECT_EQ(task->forward({{"categorical", torch::ones({4, 2}, torch::kInt64)}}).size(0), 4);
}

TEST(TabularClassifier, ManifestProblemsAreNamed) {
  core::Manifest m = tabular_manifest();
  m.extra["schema"]["columns"][0]["position"] = 5;
  EXPECT_THROW(make_task(ModelOptions{}, m), Error);
  m = tabular_manifest();
  m.extra.erase("schema");  // no vocabulary sizes for the categorical field
  try {
    make_task(ModelOptions{}, m);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocabulary"), std::string::npos) << e.what();
  }
  m = tabular_manifest();
  m.fields = {{"label", "int64", {}}};
  EXPECT_THROW(make_task(ModelOptions{}, m), Error);
  ModelOptions o;
  o.backbone = "small_cnn";  // an image backbone for a table
  try {
    make_task(o, tabular_manifest());
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("ft_transformer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strike::tasks
