// GPU tests (built only with -DSTRIKE_WITH_CUDA=ON, run by scripts/gpu-check on the GPU machine): NCCL
// collectives on device tensors over one rank, AMP fp16/bf16 steps against fp32 on CUDA, loss scaling
// that backs off on overflow on CUDA, and GradientSync through NCCL. No GPU here is a failure, not a skip:
// this binary exists only in builds meant for one.
#include <ATen/Context.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "core/error.h"
#include "tasks/optim/flat_parameters.h"
#include "tasks/optim/mixed_precision.h"
#include "tasks/optim/optimizer.h"
#include "worker/comm/communicator.h"
#include "worker/comm/gradient_sync.h"
#include "worker/comm/nccl_communicator.h"

namespace strike {
namespace {

using tasks::AutocastScope;
using tasks::FlatParameters;
using tasks::LossScaler;
using tasks::LossScalerOptions;
using tasks::Precision;

constexpr auto kCuda = c10::DeviceType::CUDA;

#define REQUIRE_GPU() ASSERT_TRUE(torch::cuda::is_available()) << "a STRIKE_WITH_CUDA build's GPU tests need a GPU"

// One rank: NCCL over a LocalCommunicator (no MPI), as on a one-GPU machine.
std::unique_ptr<worker::NcclCommunicator> one_rank_nccl() {
  return std::make_unique<worker::NcclCommunicator>(std::make_unique<worker::LocalCommunicator>());
}

torch::Device gpu(const worker::NcclCommunicator& comm) {
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(comm.device_index()));
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GpuNccl, OneRankCollectivesOnDeviceTensors) {
  REQUIRE_GPU();
  auto comm = one_rank_nccl();
  EXPECT_EQ(comm->backend(), "nccl");
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_EQ(comm->device_index(), 0);
  const torch::Device dev = gpu(*comm);
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kInt32, torch::kBFloat16, torch::kFloat16}) {
    torch::Tensor t = (torch::arange(1000, torch::TensorOptions().dtype(torch::kInt64).device(dev)) % 97).to(dtype);
    const torch::Tensor before = t.clone();
    comm->all_reduce_sum(t);  // one rank: the sum is the tensor itself
    EXPECT_TRUE(t.is_cuda());
    EXPECT_TRUE(torch::equal(t.cpu(), before.cpu())) << dtype;
  }
  torch::Tensor b = torch::full({4, 5}, 7.0, torch::TensorOptions().device(dev));
  comm->broadcast(b, 0);
  EXPECT_TRUE(torch::equal(b.cpu(), torch::full({4, 5}, 7.0)));
  torch::Tensor mine = torch::arange(6, torch::TensorOptions().dtype(torch::kInt64).device(dev)).view({2, 3});
  torch::Tensor all = comm->all_gather(mine);
  EXPECT_TRUE(all.is_cuda());
  EXPECT_TRUE(torch::equal(all.cpu(), mine.cpu()));
  // CPU tensors go to the wrapped communicator.
  torch::Tensor cpu = torch::ones({3});
  comm->all_reduce_sum(cpu);
  EXPECT_TRUE(torch::equal(cpu, torch::ones({3})));
  comm->barrier();
}

TEST(GpuNccl, AsyncAllReduceCompletesAndWaitOrdersTheCurrentStream) {
  REQUIRE_GPU();
  auto comm = one_rank_nccl();
  const torch::Device dev = gpu(*comm);
  // Run on a stream other than the default one, as autograd's device threads may.
  c10::cuda::CUDAStreamGuard on_side(c10::cuda::getStreamFromPool(false, dev.index()));
  torch::Tensor a = torch::arange(1 << 22, torch::TensorOptions().dtype(torch::kFloat32).device(dev));
  torch::Tensor b = torch::ones({3}, torch::TensorOptions().dtype(torch::kBFloat16).device(dev));
  auto pa = comm->all_reduce_sum_async(a);
  auto pb = comm->all_reduce_sum_async(b);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pa->test()) ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "async all-reduce never finished";
  pb->wait();
  torch::Tensor doubled = a * 2;  // queued after wait(): must see the finished sum
  EXPECT_TRUE(torch::equal(doubled.cpu(), torch::arange(1 << 22, torch::kFloat32) * 2));
  EXPECT_TRUE(torch::equal(b.cpu(), torch::ones({3}, torch::kBFloat16)));
  EXPECT_TRUE(pa->test());
  // A handle dropped before its test()/wait() is harmless: the buffer's memory stays reserved.
  {
    torch::Tensor c = torch::ones({1 << 20}, torch::TensorOptions().device(dev));
    comm->all_reduce_sum_async(c);
  }
  torch::cuda::synchronize();
}

TEST(GpuNccl, RejectsWrongTensorsWithAMessage) {
  REQUIRE_GPU();
  auto comm = one_rank_nccl();
  const torch::Device dev = gpu(*comm);
  torch::Tensor strided = torch::zeros({4, 4}, torch::TensorOptions().device(dev)).t();
  EXPECT_NE(error_of([&] { comm->all_reduce_sum(strided); }).find("contiguous"), std::string::npos);
  torch::Tensor bools = torch::zeros({4}, torch::TensorOptions().dtype(torch::kBool).device(dev));
  EXPECT_NE(error_of([&] { comm->all_reduce_sum(bools); }).find("not supported"), std::string::npos);
  if (torch::cuda::device_count() > 1) {
    torch::Tensor other = torch::zeros({4}, torch::TensorOptions().device(torch::Device(torch::kCUDA, 1)));
    EXPECT_NE(error_of([&] { comm->all_reduce_sum(other); }).find("cuda:0"), std::string::npos);
  }
}

torch::nn::Sequential make_model(uint64_t seed, const torch::Device& device) {
  torch::manual_seed(seed);
  torch::nn::Sequential model(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 16, 3).padding(1)), torch::nn::ReLU(),
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 16, 3).padding(1)), torch::nn::ReLU(),
                              torch::nn::Flatten(), torch::nn::Linear(16 * 8 * 8, 10));
  model->to(device);
  return model;
}

struct Batch {
  torch::Tensor x, y;
};

Batch make_batch(uint64_t seed, const torch::Device& device) {
  torch::manual_seed(seed);
  return {torch::randn({64, 3, 8, 8}).to(device), torch::randint(0, 10, {64}).to(device)};
}

// One SGD step on CUDA in `precision` with the trainer's order (scale, backward, unscale, step, update);
// returns the flat parameters after it.
torch::Tensor cuda_step(Precision precision, LossScaler& scaler, const Batch& batch) {
  auto model = make_model(3, batch.x.device());
  FlatParameters flat(*model);
  tasks::OptimizerOptions o;
  o.name = "sgd";
  o.momentum = 0;
  o.weight_decay = 0;
  auto optimizer = tasks::make_optimizer(o, flat);
  torch::Tensor logits, loss;
  {
    AutocastScope autocast(precision, kCuda);
    logits = model->forward(batch.x);
    loss = torch::nn::functional::cross_entropy(logits, batch.y);
  }
  const auto expected = precision == Precision::kBf16Mixed ? torch::kBFloat16
                        : precision == Precision::k16Mixed ? torch::kFloat16
                                                            : torch::kFloat32;
  EXPECT_EQ(logits.scalar_type(), expected);    // autocast really ran the linear in low precision
  EXPECT_EQ(loss.scalar_type(), torch::kFloat32);  // and the loss in float32
  scaler.scale(loss).backward();
  const bool found_inf = scaler.unscale(flat.grads());
  if (!found_inf) optimizer->step(0.5);
  scaler.update(found_inf);
  return flat.values().cpu();
}

double relative(const torch::Tensor& a, const torch::Tensor& b) { return ((a - b).norm() / b.norm()).item<double>(); }

TEST(GpuAmp, Fp16AndBf16StepsMatchFp32) {
  REQUIRE_GPU();
  const torch::Device dev(torch::kCUDA, 0);
  // A float32 reference without TF32 (cuDNN uses it for float32 convolutions by default).
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  const Batch batch = make_batch(11, dev);
  const torch::Tensor initial = FlatParameters(*make_model(3, dev)).values().cpu();
  LossScaler off(false);
  const torch::Tensor fp32 = cuda_step(Precision::k32, off, batch);
  const torch::Tensor bf16 = cuda_step(Precision::kBf16Mixed, off, batch);
  LossScalerOptions options;
  options.init_scale = 1024.0;  // a power of two (exact) far from fp16 overflow for this model
  LossScaler fp16_scaler(true, options);
  const torch::Tensor fp16 = cuda_step(Precision::k16Mixed, fp16_scaler, batch);
  EXPECT_EQ(fp16_scaler.skipped_steps(), 0);
  const torch::Tensor update32 = fp32 - initial;
  ASSERT_GT(update32.norm().item<double>(), 1e-3);
  // Same bars as the CPU test (tests/tasks/mixed_precision_test.cpp): bf16 keeps 8 significant bits;
  // fp16 keeps 11, so it must come closer.
  EXPECT_LT(relative(bf16, fp32), 1e-2);
  EXPECT_LT(relative(bf16 - initial, update32), 3e-2);
  EXPECT_LT(relative(fp16, fp32), 2e-3);
  EXPECT_LT(relative(fp16 - initial, update32), 1e-2);
  EXPECT_FALSE(bf16.equal(fp32));
  EXPECT_FALSE(fp16.equal(fp32));
  at::globalContext().setAllowTF32CuDNN(true);
}

TEST(GpuLossScaler, BacksOffOnInfAndNanInDeviceGradients) {
  REQUIRE_GPU();
  const auto opts = torch::TensorOptions().device(torch::Device(torch::kCUDA, 0));
  LossScaler scaler(true);
  double scale = 65536.0;
  int64_t skipped = 0;
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    torch::Tensor grads = torch::ones({300}, opts);
    grads[123] = bad;
    EXPECT_TRUE(scaler.unscale(grads)) << bad;
    scaler.update(true);
    scale /= 2;
    EXPECT_EQ(scaler.scale_value(), scale);
    EXPECT_EQ(scaler.skipped_steps(), ++skipped);
    EXPECT_EQ(scaler.growth_tracker(), 0);
  }
  torch::Tensor finite = torch::full({1000}, 2.0 * scale, opts);
  EXPECT_FALSE(scaler.unscale(finite));
  EXPECT_TRUE(torch::equal(finite.cpu(), torch::full({1000}, 2.0)));
  scaler.update(false);
  EXPECT_EQ(scaler.scale_value(), scale);
  EXPECT_EQ(scaler.growth_tracker(), 1);
}

TEST(GpuLossScaler, Fp16OverflowSkipsStepsAndHalvesTheScaleUntilItFits) {
  REQUIRE_GPU();
  const torch::Device dev(torch::kCUDA, 0);
  const Batch batch = make_batch(13, dev);
  auto model = make_model(3, dev);
  FlatParameters flat(*model);
  const torch::Tensor initial = flat.values().clone();
  LossScalerOptions options;
  options.init_scale = std::ldexp(1.0, 40);  // fp16 gradients overflow (max 65504) at this scale
  LossScaler scaler(true, options);
  int iterations = 0;
  bool stepped = false;
  for (; iterations < 60 && !stepped; ++iterations) {
    const double scale = scaler.scale_value();
    flat.zero_grad();
    torch::Tensor loss;
    {
      AutocastScope autocast(Precision::k16Mixed, kCuda);
      loss = torch::nn::functional::cross_entropy(model->forward(batch.x), batch.y);
    }
    scaler.scale(loss).backward();
    const bool found_inf = scaler.unscale(flat.grads());
    if (found_inf) {
      EXPECT_TRUE(torch::equal(flat.values(), initial)) << "a skipped step must leave the parameters alone";
    } else {
      EXPECT_TRUE(torch::isfinite(flat.grads()).all().item<bool>());
      flat.values().sub_(flat.grads(), 0.1);
      stepped = true;
    }
    scaler.update(found_inf);
    EXPECT_EQ(scaler.scale_value(), found_inf ? scale / 2 : scale);
  }
  ASSERT_TRUE(stepped) << "the scale never came down far enough";
  EXPECT_GT(scaler.skipped_steps(), 0);
  EXPECT_EQ(scaler.skipped_steps(), iterations - 1);
  EXPECT_EQ(scaler.scale_value(), std::ldexp(1.0, 40 - static_cast<int>(scaler.skipped_steps())));
  EXPECT_FALSE(torch::equal(flat.values(), initial));
}

// Reports two ranks but reduces over the one-rank NCCL communicator underneath, so GradientSync
// takes its multi-rank path (hooks on autograd's CUDA thread, bucketed async all-reduce) on one GPU:
// the sum over this one real rank must be the local gradient itself.
class TwoRanksOverOne final : public worker::Communicator {
 public:
  explicit TwoRanksOverOne(worker::Communicator& inner) : inner_(inner) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void all_reduce_sum(torch::Tensor& t) override { inner_.all_reduce_sum(t); }
  std::unique_ptr<worker::PendingReduce> all_reduce_sum_async(torch::Tensor t) override {
    ++async_calls;
    all_on_gpu = all_on_gpu && t.is_cuda();
    return inner_.all_reduce_sum_async(std::move(t));
  }
  void broadcast(torch::Tensor& t, int root) override { inner_.broadcast(t, root); }
  torch::Tensor all_gather(const torch::Tensor& t) override { return inner_.all_gather(t); }
  void barrier() override { inner_.barrier(); }
  [[noreturn]] void abort(int code, const std::string& reason) override {
    inner_.abort(code, reason);
    std::_Exit(code);
  }
  std::string backend() const override { return "nccl"; }

  int async_calls = 0;
  bool all_on_gpu = true;

 private:
  worker::Communicator& inner_;
};

// Gradients of one backward on CUDA with GradientSync over `comm`.
torch::Tensor synced_grads(worker::Communicator& comm, const std::string& compression, size_t* buckets = nullptr) {
  const torch::Device dev(torch::kCUDA, 0);
  const Batch batch = make_batch(21, dev);
  auto model = make_model(5, dev);
  FlatParameters flat(*model);
  worker::GradientSyncOptions options;
  // 524 then 1310 floats: buckets {fc bias+weight}, {conv2 bias+weight}, {conv1 bias+weight} for this model.
  options.first_bucket_mb = 0.002;
  options.bucket_mb = 0.005;
  options.compression = compression;
  worker::GradientSync sync(flat, comm, options);
  if (buckets != nullptr) *buckets = sync.buckets().size();
  flat.zero_grad();
  sync.prepare(true);
  torch::nn::functional::cross_entropy(model->forward(batch.x), batch.y).backward();
  sync.finish();
  return flat.grads().cpu();
}

TEST(GpuGradientSync, OverNcclMatchesLocalGradients) {
  REQUIRE_GPU();
  at::globalContext().setDeterministicCuDNN(true);
  at::globalContext().setBenchmarkCuDNN(false);
  worker::LocalCommunicator local;
  const torch::Tensor reference = synced_grads(local, "none");
  ASSERT_GT(reference.abs().sum().item<double>(), 0.0);

  auto nccl = one_rank_nccl();
  // One rank: GradientSync leaves the gradients alone.
  EXPECT_TRUE(torch::allclose(synced_grads(*nccl, "none"), reference, 1e-5, 1e-7));

  TwoRanksOverOne two(*nccl);
  size_t buckets = 0;
  const torch::Tensor summed = synced_grads(two, "none", &buckets);
  EXPECT_GT(buckets, 2u);
  EXPECT_EQ(two.async_calls, static_cast<int>(buckets));  // every bucket went through NCCL once
  EXPECT_TRUE(two.all_on_gpu);
  EXPECT_TRUE(torch::allclose(summed, reference, 1e-5, 1e-7));

  for (const char* wire : {"bf16", "fp16"}) {
    TwoRanksOverOne compressed(*nccl);
    const torch::Tensor g = synced_grads(compressed, wire);
    EXPECT_EQ(compressed.async_calls, static_cast<int>(buckets)) << wire;
    EXPECT_LT(relative(g, reference), 1e-2) << wire;
  }
}

}  // namespace
}  // namespace strike
