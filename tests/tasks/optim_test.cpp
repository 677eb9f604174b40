// FlatParameters views, fused SGD/AdamW against LibTorch's optimizers, state round trips, clipping.
#include "tasks/optim/flat_parameters.h"
#include "tasks/optim/optimizer.h"

#include <gtest/gtest.h>

namespace strike::tasks {
namespace {

torch::nn::Sequential make_model(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(5, 8), torch::nn::LayerNorm(torch::nn::LayerNormOptions({8})),
                               torch::nn::Tanh(), torch::nn::Linear(8, 3));
}

torch::Tensor loss_of(torch::nn::Sequential& model, int64_t i) {
  torch::manual_seed(100 + i);
  auto x = torch::randn({16, 5});
  auto y = torch::randn({16, 3});
  return (model->forward(x) - y).pow(2).mean();
}

TEST(FlatParameters, ParametersAndGradsAreViews) {
  auto model = make_model(1);
  std::vector<torch::Tensor> before;
  for (const auto& p : model->parameters()) before.push_back(p.detach().clone());
  FlatParameters flat(*model);
  auto params = model->parameters();
  ASSERT_EQ(flat.slots().size(), params.size());
  int64_t total = 0, decayed = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& s = flat.slots()[i];
    EXPECT_TRUE(params[i].equal(before[i])) << s.name;  // values survived the move
    EXPECT_EQ(params[i].data_ptr<float>(), flat.values().data_ptr<float>() + s.offset) << s.name;
    EXPECT_EQ(params[i].grad().data_ptr<float>(), flat.grads().data_ptr<float>() + s.offset) << s.name;
    EXPECT_EQ(s.decay, params[i].dim() > 1) << s.name;
    total += s.numel;
    if (s.decay) decayed += s.numel;
  }
  EXPECT_EQ(flat.numel(), total);
  EXPECT_EQ(flat.slots()[0].name, "0.weight");
  EXPECT_EQ(flat.decay_mask().sum().item<int64_t>(), decayed);

  // Writing the flat buffer changes the model.
  flat.values().add_(1.0);
  EXPECT_TRUE(params[0].equal(before[0] + 1.0));
}

TEST(FlatParameters, BackwardAccumulatesInPlace) {
  auto model = make_model(2);
  FlatParameters flat(*model);
  loss_of(model, 0).backward();
  std::vector<torch::Tensor> grads;
  for (const auto& p : model->parameters()) grads.push_back(p.grad().flatten());
  auto once = flat.grads().clone();
  EXPECT_TRUE(once.equal(torch::cat(grads)));
  EXPECT_GT(once.abs().sum().item<double>(), 0);

  loss_of(model, 0).backward();
  EXPECT_TRUE(flat.grads().allclose(2 * once, 1e-6, 1e-7));
  int64_t offset = 0;
  for (const auto& p : model->parameters()) {
    EXPECT_EQ(p.grad().data_ptr<float>(), flat.grads().data_ptr<float>() + offset);  // still bound after accumulation
    offset += p.numel();
  }

  flat.zero_grad();
  EXPECT_EQ(flat.grads().abs().sum().item<double>(), 0);
  for (const auto& p : model->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().abs().sum().item<double>(), 0);
  }
  loss_of(model, 0).backward();
  EXPECT_TRUE(flat.grads().allclose(once, 1e-6, 1e-7));
}

TEST(FlatParameters, SkipsFrozenParameters) {
  auto model = make_model(3);
  model->parameters()[0].set_requires_grad(false);
  FlatParameters flat(*model);
  EXPECT_EQ(flat.slots().size(), model->parameters().size() - 1);
  EXPECT_EQ(flat.slots()[0].name, "0.bias");
}

// Runs `steps` updates on two identical models: ours through FlatParameters, LibTorch's with param
// groups giving the same decay rule (decay on >1-D tensors only); returns the largest difference.
template <typename TorchOptimizer, typename TorchOptions>
double max_difference(const OptimizerOptions& ours, const TorchOptions& theirs, double weight_decay) {
  auto a = make_model(7);
  auto b = make_model(7);
  FlatParameters flat(*a);
  auto optimizer = make_optimizer(ours, flat);
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : b->parameters()) (p.dim() > 1 ? decay : no_decay).push_back(p);
  auto with_decay = std::make_unique<TorchOptions>(theirs);
  with_decay->weight_decay(weight_decay);
  auto without_decay = std::make_unique<TorchOptions>(theirs);
  without_decay->weight_decay(0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::move(with_decay));
  groups.emplace_back(no_decay, std::move(without_decay));
  TorchOptimizer reference(groups, theirs);
  for (int64_t i = 0; i < 6; ++i) {
    double lr = ours.lr * (1.0 - 0.1 * static_cast<double>(i));  // a changing learning rate, as a scheduler gives
    flat.zero_grad();
    loss_of(a, i).backward();
    optimizer->step(lr);
    reference.zero_grad();
    loss_of(b, i).backward();
    for (auto& group : reference.param_groups()) static_cast<TorchOptions&>(group.options()).lr(lr);
    reference.step();
  }
  EXPECT_EQ(optimizer->steps(), 6);
  double diff = 0;
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) diff = std::max(diff, (pa[i] - pb[i]).abs().max().item<double>());
  // The models did move.
  EXPECT_GT((pa[0] - make_model(7)->parameters()[0]).abs().max().item<double>(), 1e-3);
  return diff;
}

TEST(Optimizers, SgdMatchesLibTorch) {
  for (auto [momentum, nesterov] : std::vector<std::pair<double, bool>>{{0.0, false}, {0.9, false}, {0.9, true}}) {
    OptimizerOptions o;
    o.name = "sgd";
    o.lr = 0.1;
    o.momentum = momentum;
    o.nesterov = nesterov;
    o.weight_decay = 0.05;
    auto theirs = torch::optim::SGDOptions(o.lr).momentum(momentum).nesterov(nesterov);
    EXPECT_LT((max_difference<torch::optim::SGD>(o, theirs, o.weight_decay)), 1e-6)
        << "momentum " << momentum << " nesterov " << nesterov;
  }
}

TEST(Optimizers, AdamWMatchesLibTorch) {
  OptimizerOptions o;
  o.name = "adamw";
  o.lr = 0.01;
  o.weight_decay = 0.1;
  o.beta1 = 0.8;
  o.beta2 = 0.99;
  o.eps = 1e-6;
  auto theirs = torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps);
  EXPECT_LT((max_difference<torch::optim::AdamW>(o, theirs, o.weight_decay)), 1e-6);
}

TEST(Optimizers, StateRoundTrip) {
  for (const std::string name : {"sgd", "adamw"}) {
    auto model = make_model(9);
    FlatParameters flat(*model);
    OptimizerOptions o;
    o.name = name;
    auto first = make_optimizer(o, flat);
    for (int64_t i = 0; i < 3; ++i) {
      flat.zero_grad();
      loss_of(model, i).backward();
      first->step(1e-2);
    }
    auto state = first->state();
    EXPECT_EQ(first->meta()["name"], name);
    EXPECT_EQ(first->meta()["step"], 3);
    auto second = make_optimizer(o, flat);
    second->load_state(state);
    EXPECT_EQ(second->steps(), 3);
    auto restored = second->state();
    ASSERT_EQ(restored.size(), state.size());
    for (size_t i = 0; i < state.size(); ++i) {
      EXPECT_EQ(restored[i].first, state[i].first);
      EXPECT_TRUE(restored[i].second.equal(state[i].second)) << name << " " << state[i].first;
    }
  }
  auto model = make_model(9);
  FlatParameters flat(*model);
  OptimizerOptions sgd;
  sgd.name = "sgd";
  OptimizerOptions adamw;
  EXPECT_THROW(make_optimizer(adamw, flat)->load_state(make_optimizer(sgd, flat)->state()), Error);
}

TEST(Optimizers, UnknownNameListsKnown) {
  auto model = make_model(1);
  FlatParameters flat(*model);
  OptimizerOptions o;
  o.name = "lamb";
  try {
    make_optimizer(o, flat);
    FAIL() << "no UsageError";
  } catch (const UsageError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("sgd"), std::string::npos) << msg;
    EXPECT_NE(msg.find("adamw"), std::string::npos) << msg;
  }
}

TEST(ClipGradNorm, ScalesOnlyAboveTheLimit) {
  auto model = make_model(4);
  FlatParameters flat(*model);
  flat.grads().zero_();
  flat.grads()[0] = 3.0;
  flat.grads()[1] = 4.0;
  EXPECT_NEAR(clip_grad_norm(flat, 10.0), 5.0, 1e-6);
  EXPECT_FLOAT_EQ(flat.grads()[1].item<float>(), 4.0f);
  EXPECT_NEAR(clip_grad_norm(flat, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(flat.grads().norm().item<double>(), 1.0, 1e-5);
  // The parameters' own .grad() views see the clipped values.
  EXPECT_NEAR(model->parameters()[0].grad().flatten()[1].item<double>(), 0.8, 1e-5);
}

}  // namespace
}  // namespace strike::tasks
