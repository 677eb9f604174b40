// image_embedding: unit-length embeddings, both objectives' logits and targets, the two views, kNN.
#include "tasks/image_embedder.h"
#include "tasks/knn.h"
#include "tasks/task_factory.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace strike::tasks {
namespace {

core::Manifest images(int classes = 4) {
  core::Manifest m;
  m.task = "image_classification";
  m.fields = {{"image", "uint8", {1, 28, 28}}, {"label", "int64", {}}};
  for (int i = 0; i < classes; ++i) m.class_names.push_back("c" + std::to_string(i));
  return m;
}

std::unique_ptr<Task> embedder(const std::string& objective, int64_t dim = 16) {
  ModelOptions o;
  o.task = "image_embedding";
  o.objective = objective;
  o.embedding_dim = dim;
  torch::manual_seed(0);
  return make_task(o, images());
}

TensorMap batch(int64_t n = 6) {
  torch::manual_seed(1);
  return {{"image", torch::randn({n, 1, 28, 28})}, {"label", torch::arange(n, torch::kInt64) % 4}};
}

TEST(ImageEmbedder, SupervisedEmbeddingsAreUnitLengthAndTrainEveryParameter) {
  auto task = embedder("supervised");
  EXPECT_EQ(task->name(), "image_embedding");
  EXPECT_EQ(resolve_model([] { ModelOptions o; o.task = "image_embedding"; return o; }(), images()).backbone, "small_cnn");
  const TensorMap b = batch();
  torch::Tensor z = task->forward(b);
  ASSERT_EQ(z.sizes(), (std::vector<int64_t>{6, 16}));
  EXPECT_TRUE(torch::allclose(z.norm(2, 1), torch::ones({6}), 1e-5, 1e-5));
  torch::Tensor loss = task->loss(z, b);
  loss.backward();
  auto params = task->model().named_parameters();
  for (const char* name : {"proxies", "projection.weight", "backbone.conv1.weight"}) {
    ASSERT_TRUE(params.contains(name)) << name;
    EXPECT_GT(params[name].grad().abs().sum().item<double>(), 0.0) << name;
  }
  MetricSums sums;
  task->accumulate_metrics(z.detach(), b, loss.detach(), sums);
  EXPECT_EQ(sums.count, 6);
  EXPECT_NEAR(sums.sums["loss"], loss.item<double>() * 6, 1e-4);
  EXPECT_EQ(task->predict(z, "embeddings").sizes(), z.sizes());
  EXPECT_THROW(task->predict(z, "labels"), UsageError);
}

TEST(ImageEmbedder, SimclrEmbedsTwoViewsInTrainingAndOneInEvaluation) {
  auto task = embedder("simclr");
  EXPECT_FALSE(task->model().named_parameters().contains("proxies"));
  const TensorMap b = batch();
  torch::Tensor z = task->forward(b);
  ASSERT_EQ(z.size(0), 12);
  torch::Tensor loss = task->loss(z, b);
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  loss.backward();
  MetricSums sums;
  task->accumulate_metrics(z.detach(), b, loss.detach(), sums);
  EXPECT_EQ(sums.count, 6);  // images, not views
  task->model().eval();
  torch::NoGradGuard no_grad;
  torch::Tensor single = task->forward(b);
  ASSERT_EQ(single.size(0), 6);
  // Evaluation's views come from a fixed seed: the same batch gives the same loss twice.
  EXPECT_EQ(task->loss(single, b).item<double>(), task->loss(single, b).item<double>());
}

TEST(ImageEmbedder, NtXentPairsEachViewWithItsTwin) {
  torch::Tensor z = torch::nn::functional::normalize(torch::randn({8, 5}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto [logits, targets] = nt_xent_logits(z, 0.5);
  EXPECT_TRUE(torch::equal(targets, torch::tensor({4, 5, 6, 7, 0, 1, 2, 3}, torch::kInt64)));
  EXPECT_TRUE(torch::isinf(logits.diagonal()).all().item<bool>());
  EXPECT_NEAR(logits[0][4].item<double>(), (z[0] * z[4]).sum().item<double>() / 0.5, 1e-5);
  EXPECT_THROW(nt_xent_logits(z.narrow(0, 0, 2), 0.5), Error);
}

TEST(ImageEmbedder, ViewsAreSeededAndDiffer) {
  torch::Tensor x = torch::randn({3, 1, 28, 28});
  torch::Tensor a = two_views(x, at::make_generator<at::CPUGeneratorImpl>(7));
  torch::Tensor b = two_views(x, at::make_generator<at::CPUGeneratorImpl>(7));
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{6, 1, 28, 28}));
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::allclose(a.narrow(0, 0, 3), a.narrow(0, 3, 3)));  // the two views of an image differ
}

TEST(Knn, WeightedVoteAndRecallAtOne) {
  // References on the unit circle: class 0 near angle 0, class 1 near angle pi/2.
  auto at = [](double angle) { return torch::tensor({std::cos(angle), std::sin(angle)}, torch::kFloat32); };
  torch::Tensor reference = torch::stack({at(0.0), at(0.1), at(0.2), at(1.5), at(1.6)});
  torch::Tensor reference_labels = torch::tensor({0, 0, 0, 1, 1}, torch::kInt64);
  // Query 0 sits by class 0. Query 1 (angle 0.9) has three class-0 references among its five but the nearest
  // two are class 1 (0.6 and 0.7 away against 0.7, 0.8, 0.9), and the exp(similarity / 0.07) weights
  // let those two outvote the three. Query 2 is labelled 0 but lies among class 1.
  torch::Tensor queries = torch::stack({at(0.05), at(0.9), at(1.55)});
  torch::Tensor labels = torch::tensor({0, 1, 0}, torch::kInt64);
  KnnResult one = knn_evaluate(reference, reference_labels, queries, labels, 1, 2);
  EXPECT_DOUBLE_EQ(one.recall_at_1, 2.0 / 3);
  KnnResult all = knn_evaluate(reference, reference_labels, queries, labels, 50, 2);
  EXPECT_EQ(all.k, 5);  // capped at the references
  EXPECT_EQ(all.queries, 3);
  EXPECT_DOUBLE_EQ(all.accuracy, 2.0 / 3);  // a plain majority of five would have called query 1 class 0
  KnnResult wrong = knn_evaluate(reference, reference_labels, queries, torch::tensor({1, 0, 1}, torch::kInt64), 50, 2);
  EXPECT_DOUBLE_EQ(wrong.accuracy, 1.0 / 3);
  EXPECT_THROW(knn_evaluate(reference, reference_labels, torch::ones({1, 3}), torch::zeros({1}, torch::kInt64), 1, 2),
               Error);
}

}  // namespace
}  // namespace strike::tasks
