// The small GEMM kernels, the fused Linear+ReLU stack, fused cross-entropy, top-k counts and the mlp
// backbone, each against the ATen computation it replaces.
#include "tasks/backbones/mlp.h"
#include "tasks/nn/cross_entropy.h"
#include "tasks/nn/linear_stack.h"
#include "tasks/nn/small_gemm.h"
#include "tasks/optim/flat_parameters.h"

#include <torch/csrc/autograd/utils/lambda_post_hook.h>

#include <gtest/gtest.h>

namespace strike::tasks {
namespace {

TEST(SmallGemm, MatchesMatmulForEveryShapeStrideAndEpilogue) {
  torch::manual_seed(0);
  for (int64_t m : {1, 3, 8, 13, 64}) {
    for (int64_t n : {1, 3, 16, 17, 40}) {
      for (int64_t k : {0, 1, 5, 64}) {
        for (bool transpose_a : {false, true}) {
          for (bool transpose_b : {false, true}) {
            auto a = transpose_a ? torch::randn({k, m}).t() : torch::randn({m, k});
            auto b = transpose_b ? torch::randn({n, k}).t() : torch::randn({k, n});
            auto c0 = torch::randn({m, n});
            auto bias = torch::randn({n});
            auto gate = torch::randn({m, n});
            for (int mode = 0; mode < 4; ++mode) {
              auto c = c0.clone();
              kernels::GemmArgs g;
              g.m = m;
              g.n = n;
              g.k = k;
              g.a = a.data_ptr<float>();
              g.a_row = a.stride(0);
              g.a_col = a.stride(1);
              g.b = b.data_ptr<float>();
              g.b_row = b.stride(0);
              g.b_col = b.stride(1);
              g.c = c.data_ptr<float>();
              g.ldc = n;
              g.accumulate = mode == 1;
              g.bias = mode == 2 ? bias.data_ptr<float>() : nullptr;
              g.relu = mode == 2;
              g.gate = mode == 3 ? gate.data_ptr<float>() : nullptr;
              g.ldg = n;
              kernels::gemm(g);
              auto expected = torch::matmul(a, b);
              if (mode == 1) expected += c0;
              if (mode == 2) expected = torch::relu(expected + bias);
              if (mode == 3) expected = torch::where(gate > 0, expected, torch::zeros_like(expected));
              EXPECT_TRUE(c.allclose(expected, 1e-4, 1e-5))
                  << "m " << m << " n " << n << " k " << k << " ta " << transpose_a << " tb " << transpose_b << " mode "
                  << mode;
            }
          }
        }
      }
    }
  }
}

TEST(SmallGemm, ColumnSumsAndReluBackward) {
  torch::manual_seed(1);
  auto a = torch::randn({37, 21});
  auto sums = torch::empty({21});
  kernels::column_sums(37, 21, a.data_ptr<float>(), 21, sums.data_ptr<float>());
  EXPECT_TRUE(sums.allclose(a.sum(0), 1e-5, 1e-5));
  auto g = torch::randn({101});
  auto y = torch::relu(torch::randn({101}));
  auto out = torch::empty({101});
  kernels::relu_backward(101, g.data_ptr<float>(), y.data_ptr<float>(), out.data_ptr<float>());
  EXPECT_TRUE(out.equal(torch::threshold_backward(g, y, 0)));
}

struct Stack {
  torch::Tensor x;
  std::vector<torch::Tensor> weights, biases;
};

Stack make_stack(std::vector<int64_t> widths, int64_t batch, bool with_bias, bool x_requires_grad, uint64_t seed) {
  torch::manual_seed(seed);
  Stack s;
  s.x = torch::randn({batch, widths[0]}).set_requires_grad(x_requires_grad);
  for (size_t i = 1; i < widths.size(); ++i) {
    s.weights.push_back((torch::randn({widths[i], widths[i - 1]}) * 0.3).set_requires_grad(true));
    s.biases.push_back(with_bias ? (torch::randn({widths[i]}) * 0.1).set_requires_grad(true) : torch::Tensor());
  }
  return s;
}

Stack clone_stack(const Stack& s) {
  Stack c;
  c.x = s.x.detach().clone().set_requires_grad(s.x.requires_grad());
  for (const auto& w : s.weights) c.weights.push_back(w.detach().clone().set_requires_grad(true));
  for (const auto& b : s.biases) c.biases.push_back(b.defined() ? b.detach().clone().set_requires_grad(true) : b);
  return c;
}

torch::Tensor reference(const Stack& s, bool relu_last) {
  torch::Tensor h = s.x;
  for (size_t l = 0; l < s.weights.size(); ++l) {
    h = torch::nn::functional::linear(h, s.weights[l], s.biases[l]);
    if (l + 1 < s.weights.size() || relu_last) h = torch::relu(h);
  }
  return h;
}

TEST(LinearStack, ForwardAndGradientsMatchLinearAndRelu) {
  for (bool relu_last : {false, true}) {
    for (bool with_bias : {false, true}) {
      for (bool x_grad : {false, true}) {
        for (int64_t batch : {1, 7, 64}) {
          Stack ours = make_stack({16, 64, 33, 3}, batch, with_bias, x_grad, 3);
          Stack theirs = clone_stack(ours);
          ASSERT_TRUE(linear_stack_is_fused(ours.x, ours.weights, ours.biases));
          auto y = linear_stack(ours.x, ours.weights, ours.biases, relu_last);
          auto expected = reference(theirs, relu_last);
          ASSERT_TRUE(y.allclose(expected, 1e-4, 1e-5)) << "relu_last " << relu_last << " bias " << with_bias;
          EXPECT_EQ(y.grad_fn()->name(), "LinearStackBackward");
          auto upstream = torch::randn_like(expected);
          (y * upstream).sum().backward();
          (expected * upstream).sum().backward();
          for (size_t l = 0; l < ours.weights.size(); ++l) {
            EXPECT_TRUE(ours.weights[l].grad().allclose(theirs.weights[l].grad(), 1e-4, 1e-5)) << "layer " << l;
            if (with_bias) EXPECT_TRUE(ours.biases[l].grad().allclose(theirs.biases[l].grad(), 1e-4, 1e-5));
          }
          if (x_grad) EXPECT_TRUE(ours.x.grad().allclose(theirs.x.grad(), 1e-4, 1e-5));
        }
      }
    }
  }
}

TEST(LinearStack, NoGradAndFallbackPaths) {
  Stack s = make_stack({5, 8, 2}, 4, true, false, 4);
  {
    torch::NoGradGuard no_grad;
    auto y = linear_stack(s.x, s.weights, s.biases);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.allclose(reference(s, false), 1e-5, 1e-6));
  }
  // float64 goes through ATen, with ATen's autograd nodes.
  Stack d = make_stack({5, 8, 2}, 4, true, false, 4);
  for (auto& w : d.weights) w = w.detach().to(torch::kFloat64).set_requires_grad(true);
  for (auto& b : d.biases) b = b.detach().to(torch::kFloat64).set_requires_grad(true);
  d.x = d.x.to(torch::kFloat64);
  EXPECT_FALSE(linear_stack_is_fused(d.x, d.weights, d.biases));
  auto y = linear_stack(d.x, d.weights, d.biases);
  EXPECT_NE(y.grad_fn()->name(), "LinearStackBackward");
  EXPECT_TRUE(y.allclose(reference(d, false)));
}

TEST(LinearStack, InPlaceChangeOfAWeightBeforeBackwardIsAnError) {
  Stack s = make_stack({4, 6, 2}, 3, true, false, 5);
  auto y = linear_stack(s.x, s.weights, s.biases);
  {
    torch::NoGradGuard no_grad;
    s.weights[0].add_(1.0);
  }
  EXPECT_THROW(y.sum().backward(), std::exception);
}

TEST(LinearStack, GradientsLandInFlatBuffersAndFireAccumulatorHooks) {
  MlpBackbone mlp(16, {32, 32});
  auto names = mlp.named_parameters().keys();
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  FlatParameters flat(mlp);
  int fired = 0;
  // The variables hold their accumulators weakly: keep them alive, as GradientSync does.
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;
  for (const auto& p : flat.parameters()) {
    accumulators.push_back(torch::autograd::impl::grad_accumulator(p));
    accumulators.back()->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [&fired](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          ++fired;
          return outputs;
        }));
  }
  torch::manual_seed(6);
  auto x = torch::randn({10, 4, 4});  // flattened to 16 features
  mlp.forward(x).pow(2).sum().backward();
  EXPECT_EQ(fired, 4);
  auto once = flat.grads().clone();
  EXPECT_GT(once.abs().sum().item<double>(), 0);
  mlp.forward(x).pow(2).sum().backward();
  EXPECT_TRUE(flat.grads().allclose(2 * once, 1e-5, 1e-6));
  int64_t offset = 0;
  for (const auto& p : flat.parameters()) {
    EXPECT_EQ(p.grad().data_ptr<float>(), flat.grads().data_ptr<float>() + offset);
    offset += p.numel();
  }
}

TEST(CrossEntropy, FusedMatchesTheAtenFormulaInValueAndGradient) {
  for (double smoothing : {0.0, 0.1}) {
    for (int64_t classes : {1, 3, 10, 64}) {
      torch::manual_seed(7);
      auto logits = (torch::randn({13, classes}) * 3).set_requires_grad(true);
      auto reference_logits = logits.detach().clone().set_requires_grad(true);
      auto labels = torch::randint(0, classes, {13});
      auto loss = cross_entropy(logits, labels, smoothing);
      EXPECT_EQ(loss.grad_fn()->name(), "CrossEntropyBackward");
      auto expected = cross_entropy_per_sample(reference_logits, labels, smoothing).mean();
      EXPECT_NEAR(loss.item<double>(), expected.item<double>(), 1e-5) << "classes " << classes;
      (loss * 2.5).backward();
      (expected * 2.5).backward();
      EXPECT_TRUE(logits.grad().allclose(reference_logits.grad(), 1e-5, 1e-6)) << "classes " << classes;
      // torch's own cross_entropy agrees too.
      auto torch_loss = torch::nn::functional::cross_entropy(
          reference_logits, labels, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(smoothing));
      EXPECT_NEAR(loss.item<double>(), torch_loss.item<double>(), 1e-5);
    }
  }
}

TEST(CrossEntropy, LabelsOutOfRangeAreAnError) {
  auto logits = torch::randn({2, 3});
  EXPECT_THROW(cross_entropy(logits, torch::tensor({0, 3}), 0.0), Error);
  EXPECT_THROW(cross_entropy(logits, torch::tensor({-1, 0}), 0.0), Error);
  EXPECT_THROW(count_topk_hits(logits, torch::tensor({0, 3}), 1), Error);
}

TEST(TopkHits, CountsRanksWithTiesByIndexOnEveryPath) {
  auto logits = torch::tensor({{5.0, 1.0, 0.5, 0.2, 0.1, 0.0},
                               {0.3, 2.0, 1.0, 0.1, 3.0, -1.0},
                               {1.0, 2.0, 3.0, 4.0, 5.0, -2.0},
                               {1.0, 1.0, 1.0, 1.0, 1.0, 1.0},
                               {1.0, 1.0, 1.0, 1.0, 1.0, 1.0}});
  auto labels = torch::tensor({0, 2, 5, 0, 5});
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {  // float64 takes the ATen path
    auto top1 = count_topk_hits(logits.to(dtype), labels, 1);
    auto top3 = count_topk_hits(logits.to(dtype), labels, 3);
    EXPECT_EQ(top1.top1, 2);  // rows 0 and 3 (a tie won by the smallest index)
    EXPECT_EQ(top3.topk, 3);  // and row 1 (third)
    EXPECT_EQ(count_topk_hits(logits.to(dtype), labels, 6).topk, 5);
  }
}

}  // namespace
}  // namespace strike::tasks
