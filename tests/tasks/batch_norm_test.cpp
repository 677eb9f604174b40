// SyncableBatchNorm2d: 2 ranks as 2 threads with an in-test summing reducer must reproduce plain
// batch norm on the whole batch (outputs, grad_input, summed grad_weight/grad_bias, running stats);
// without a reducer, and in eval mode, it is torch's BatchNorm2d bit for bit.
#include "tasks/backbones/batch_norm.h"
#include "tasks/backbones/resnet.h"
#include "tasks/backbones/small_cnn.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace strike::tasks {
namespace {

constexpr int64_t kChannels = 3;

// Sums one tensor per rank across `ranks` threads (a barrier-based stand-in for MPI_Allreduce, for
// tests only). Every rank gets the same sum, added in rank order. Times out instead of hanging.
class ThreadSum {
 public:
  explicit ThreadSum(int ranks) : slots_(ranks) {}

  void reduce(int rank, torch::Tensor& tensor) {
    std::unique_lock<std::mutex> lock(mutex_);
    slots_[rank] = tensor.clone();
    wait_all(lock);
    torch::Tensor sum = slots_[0].clone();
    for (size_t r = 1; r < slots_.size(); ++r) sum += slots_[r];
    ++calls_[rank];
    wait_all(lock);  // nobody overwrites a slot before everyone has read it
    tensor.copy_(sum);
  }
  SumReducer reducer(int rank) {
    return [this, rank](torch::Tensor& t) { reduce(rank, t); };
  }
  int calls(int rank) const { return calls_[rank]; }

 private:
  void wait_all(std::unique_lock<std::mutex>& lock) {
    const int64_t generation = generation_;
    if (++arrived_ == static_cast<int>(slots_.size())) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else if (!cv_.wait_for(lock, std::chrono::seconds(60), [&] { return generation_ != generation; })) {
      throw std::runtime_error("ThreadSum: the other rank never reached the reduction");
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<torch::Tensor> slots_;
  int calls_[8] = {};
  int arrived_ = 0;
  int64_t generation_ = 0;
};

// Runs fn(rank) on one thread per rank; rethrows the first failure.
void run_ranks(int ranks, const std::function<void(int)>& fn) {
  std::vector<std::exception_ptr> errors(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(r);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) if (e) std::rethrow_exception(e);
}

// Same random affine parameters in every copy.
template <typename BN>
void init_affine(BN& bn) {
  torch::NoGradGuard no_grad;
  auto gen = torch::make_generator<torch::CPUGeneratorImpl>(7);
  bn->weight.copy_(torch::rand({kChannels}, gen) + 0.5);
  bn->bias.copy_(torch::randn({kChannels}, gen));
}

// Per-channel offsets and scales, so wrong (local) statistics show clearly.
torch::Tensor batch(int64_t n, uint64_t seed) {
  auto gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
  auto scale = torch::tensor({1.0f, 3.0f, 0.5f}).view({1, kChannels, 1, 1});
  auto offset = torch::tensor({2.0f, -1.0f, 0.25f}).view({1, kChannels, 1, 1});
  return torch::randn({n, kChannels, 5, 4}, gen) * scale + offset;
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double tol, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double diff = (actual.to(torch::kDouble) - expected.to(torch::kDouble)).abs().max().item<double>();
  EXPECT_LE(diff, tol) << what;
}

struct SyncCase {
  std::vector<int64_t> split;           // samples per rank; they sum to the batch
  c10::optional<double> momentum;       // nullopt: cumulative average
};

class SyncBatchNorm : public ::testing::TestWithParam<SyncCase> {};

// Two ranks on their shares of the batch against one plain BatchNorm2d on the whole batch, 3 steps.
TEST_P(SyncBatchNorm, TwoRanksMatchFullBatch) {
  const SyncCase c = GetParam();
  const int ranks = static_cast<int>(c.split.size());
  auto options = torch::nn::BatchNormOptions(kChannels).momentum(c.momentum);
  torch::nn::BatchNorm2d reference(options);
  init_affine(reference);
  std::vector<SyncableBatchNorm2d> bns;
  ThreadSum sum(ranks);
  for (int r = 0; r < ranks; ++r) {
    bns.emplace_back(options);
    init_affine(bns.back());
    EXPECT_EQ(enable_sync_batchnorm(*bns.back(), sum.reducer(r), ranks), 1);
  }

  int64_t total = 0;
  for (int64_t n : c.split) total += n;
  for (int step = 0; step < 3; ++step) {
    const torch::Tensor x = batch(total, 100 + step);
    const torch::Tensor loss_weights = torch::randn(x.sizes(), torch::make_generator<torch::CPUGeneratorImpl>(200 + step));

    // Reference: the whole batch on one "rank".
    for (auto& p : reference->parameters()) p.mutable_grad() = torch::Tensor();
    torch::Tensor x_full = x.clone().requires_grad_(true);
    torch::Tensor y_full = reference->forward(x_full);
    (y_full * loss_weights).sum().backward();

    // Ranks: contiguous shares of the same batch.
    std::vector<torch::Tensor> xs(ranks), ys(ranks);
    int64_t start = 0;
    for (int r = 0; r < ranks; ++r) {
      xs[r] = x.slice(0, start, start + c.split[r]).clone().requires_grad_(true);
      start += c.split[r];
      for (auto& p : bns[r]->parameters()) p.mutable_grad() = torch::Tensor();
    }
    run_ranks(ranks, [&](int r) {
      int64_t begin = 0;
      for (int q = 0; q < r; ++q) begin += c.split[q];
      ys[r] = bns[r]->forward(xs[r]);
      (ys[r] * loss_weights.slice(0, begin, begin + c.split[r])).sum().backward();
    });

    const std::string at = "step " + std::to_string(step);
    std::vector<torch::Tensor> grads;
    for (auto& xr : xs) grads.push_back(xr.grad());
    expect_close(torch::cat(ys), y_full, 1e-5, "output, " + at);
    expect_close(torch::cat(grads), x_full.grad(), 1e-5, "grad_input, " + at);
    torch::Tensor gw = bns[0]->weight.grad().clone(), gb = bns[0]->bias.grad().clone();
    for (int r = 1; r < ranks; ++r) {
      gw += bns[r]->weight.grad();
      gb += bns[r]->bias.grad();
      // grad_weight/grad_bias are local sums: each rank's differs from the full-batch one.
      EXPECT_FALSE(bns[r]->weight.grad().allclose(reference->weight.grad(), 1e-3, 1e-3)) << at;
    }
    expect_close(gw, reference->weight.grad(), 1e-4, "sum of grad_weight, " + at);
    expect_close(gb, reference->bias.grad(), 1e-4, "sum of grad_bias, " + at);
    for (int r = 0; r < ranks; ++r) {
      expect_close(bns[r]->running_mean, reference->running_mean, 1e-5, "running_mean, " + at);
      expect_close(bns[r]->running_var, reference->running_var, 1e-5, "running_var, " + at);
      // Every rank derives them from the same reduced sums: identical bit for bit.
      EXPECT_TRUE(bns[r]->running_mean.equal(bns[0]->running_mean)) << at;
      EXPECT_TRUE(bns[r]->running_var.equal(bns[0]->running_var)) << at;
      EXPECT_EQ(bns[r]->num_batches_tracked.item<int64_t>(), step + 1) << at;
      EXPECT_EQ(sum.calls(r), 2 * (step + 1)) << "one all-reduce forward, one backward; " << at;
    }
  }

  // Eval: every rank normalizes with the (shared) running statistics, like the reference.
  reference->eval();
  const torch::Tensor x = batch(4, 300);
  const torch::Tensor expected = reference->forward(x);
  for (int r = 0; r < ranks; ++r) {
    bns[r]->eval();
    expect_close(bns[r]->forward(x), expected, 1e-5, "eval, rank " + std::to_string(r));
  }
  EXPECT_EQ(sum.calls(0), 6) << "eval must not communicate";
}

INSTANTIATE_TEST_SUITE_P(Splits, SyncBatchNorm,
                         ::testing::Values(SyncCase{{8, 8}, 0.1}, SyncCase{{5, 11}, 0.3},
                                           SyncCase{{8, 8}, c10::nullopt}, SyncCase{{6, 5, 5}, 0.1}),
                         [](const ::testing::TestParamInfo<SyncCase>& info) {
                           std::string name;
                           for (int64_t n : info.param.split) name += std::to_string(n) + "_";
                           return name + (info.param.momentum ? "momentum" : "cumulative");
                         });

// The comparison above can fail: per-rank (unsynchronized) statistics are measurably different.
TEST(SyncBatchNormCheck, LocalStatisticsDifferFromGlobal) {
  torch::nn::BatchNorm2d full(kChannels), half(kChannels);
  const torch::Tensor x = batch(16, 100);
  const torch::Tensor y_full = full->forward(x).slice(0, 0, 8);
  const torch::Tensor y_half = half->forward(x.slice(0, 0, 8));
  EXPECT_GT((y_full - y_half).abs().max().item<double>(), 1e-2);
}

// No reducer (or one rank): torch's BatchNorm2d exactly, in training and in eval.
TEST(SyncBatchNormCheck, UnsynchronizedIsTorchBitwise) {
  for (int variant = 0; variant < 2; ++variant) {
    torch::nn::BatchNorm2d reference(kChannels);
    SyncableBatchNorm2d bn(kChannels);
    init_affine(reference);
    init_affine(bn);
    int calls = 0;
    if (variant == 1) bn->set_reducer([&](torch::Tensor&) { ++calls; }, 1);
    EXPECT_FALSE(bn->synchronized());
    for (int step = 0; step < 2; ++step) {
      torch::Tensor xr = batch(16, 10 + step).requires_grad_(true), xb = xr.detach().clone().requires_grad_(true);
      torch::Tensor yr = reference->forward(xr), yb = bn->forward(xb);
      EXPECT_TRUE(yb.equal(yr));
      yr.sum().backward();
      yb.sum().backward();
      EXPECT_TRUE(xb.grad().equal(xr.grad()));
      EXPECT_TRUE(bn->running_mean.equal(reference->running_mean));
      EXPECT_TRUE(bn->running_var.equal(reference->running_var));
      EXPECT_TRUE(bn->num_batches_tracked.equal(reference->num_batches_tracked));
    }
    reference->eval();
    bn->eval();
    const torch::Tensor x = batch(4, 20);
    EXPECT_TRUE(bn->forward(x).equal(reference->forward(x)));
    EXPECT_EQ(calls, 0);
  }
}

// Eval uses the running statistics, not the batch's, also with a reducer set.
TEST(SyncBatchNormCheck, EvalUsesRunningStats) {
  SyncableBatchNorm2d bn(kChannels);
  init_affine(bn);
  int calls = 0;
  bn->set_reducer([&](torch::Tensor&) { ++calls; }, 2);
  {
    torch::NoGradGuard no_grad;
    bn->running_mean.copy_(torch::tensor({1.0f, -2.0f, 0.5f}));
    bn->running_var.copy_(torch::tensor({4.0f, 0.25f, 2.0f}));
  }
  bn->eval();
  const torch::Tensor x = batch(4, 30);
  const auto v = [](const torch::Tensor& t) { return t.view({1, kChannels, 1, 1}); };
  const torch::Tensor expected =
      (x - v(bn->running_mean)) / (v(bn->running_var) + bn->options.eps()).sqrt() * v(bn->weight) + v(bn->bias);
  expect_close(bn->forward(x), expected, 1e-5, "eval output");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);
}

// bf16 input (what autocast hands over after a convolution): statistics in float32, output in bf16.
TEST(SyncBatchNormCheck, HalfPrecisionInputKeepsDtype) {
  ThreadSum sum(2);
  std::vector<SyncableBatchNorm2d> bns;
  for (int r = 0; r < 2; ++r) {
    bns.emplace_back(kChannels);
    init_affine(bns[r]);
    enable_sync_batchnorm(*bns[r], sum.reducer(r), 2);
  }
  torch::nn::BatchNorm2d reference(kChannels);
  init_affine(reference);
  const torch::Tensor x = batch(16, 40).to(torch::kBFloat16);
  const torch::Tensor expected = reference->forward(x.to(torch::kFloat));
  std::vector<torch::Tensor> ys(2), xs = {x.slice(0, 0, 8).clone().requires_grad_(true), x.slice(0, 8, 16).clone().requires_grad_(true)};
  run_ranks(2, [&](int r) {
    ys[r] = bns[r]->forward(xs[r]);
    ys[r].to(torch::kFloat).sum().backward();
  });
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(ys[r].scalar_type(), torch::kBFloat16);
    EXPECT_EQ(xs[r].grad().scalar_type(), torch::kBFloat16);
    EXPECT_EQ(bns[r]->running_mean.scalar_type(), torch::kFloat);
    expect_close(bns[r]->running_mean, reference->running_mean, 1e-5, "bf16 running_mean");
    expect_close(bns[r]->running_var, reference->running_var, 1e-4, "bf16 running_var");
  }
  expect_close(torch::cat(ys), expected, 0.05, "bf16 output");
}

TEST(SyncBatchNormCheck, BackbonesUseIt) {
  BackboneOptions o;
  SmallCnn cnn(o);
  int calls = 0;
  EXPECT_EQ(enable_sync_batchnorm(cnn, [&](torch::Tensor&) { ++calls; }, 2), 4);
  o.in_channels = 3;
  o.image_size = 32;
  auto resnet = std::make_shared<ResNet>(18, o);
  EXPECT_EQ(enable_sync_batchnorm(*resnet, [&](torch::Tensor&) { ++calls; }, 2), 20);  // 1 + 8 blocks x 2 + 3 downsamples
  int found = 0;
  for (const auto& m : resnet->modules()) found += m->as<torch::nn::BatchNorm2d>() != nullptr;
  EXPECT_EQ(found, 20);
  // clone() keeps the type.
  SyncableBatchNorm2d bn(kChannels);
  auto copy = bn->clone();
  EXPECT_NE(std::dynamic_pointer_cast<SyncableBatchNorm2dImpl>(copy), nullptr);
  EXPECT_EQ(calls, 0);
}

// Too few values per channel over all ranks: a clear error, like torch's.
TEST(SyncBatchNormCheck, OneValuePerChannelRejected) {
  SyncableBatchNorm2d bn(kChannels);
  bn->set_reducer([](torch::Tensor&) {}, 2);  // the other rank contributes nothing
  EXPECT_THROW(bn->forward(torch::randn({1, kChannels, 1, 1})), Error);
  EXPECT_THROW(bn->set_reducer(nullptr, 0), UsageError);
}

}  // namespace
}  // namespace strike::tasks
