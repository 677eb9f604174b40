// Training throughput of one strike step on one GPU (images/s), without the loader: synthetic data already on
// the GPU, as bench/gpu_reference.py feeds plain PyTorch eager. bench/gpu_bench.sh runs both in one call.
// Usage: strike_gpu_bench [backbone=resnet50] [size=224] [batch=256] [steps=30] [warmup=10] [precision=bf16-mixed]
// small_cnn gets 1-channel images and 10 classes (Fashion-MNIST's shape), the ResNets 3 channels and 1000.
// Built twice: strike_gpu_bench runs the step eagerly; strike_gpu_graph_bench (STRIKE_BENCH_CUDA_GRAPH)
// captures the whole step (zero_grad, forward, backward, optimizer) once as a CUDA graph and replays it,
// which is what cuts the per-kernel launch cost of small models.
// Prints one line: "RESULT strike <images/s>" (or "RESULT strike-graph <images/s>").
#include <ATen/Context.h>
#include <torch/torch.h>
#ifdef STRIKE_BENCH_CUDA_GRAPH
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <chrono>
#include <cstdio>
#include <string>

#include "core/manifest.h"
#include "tasks/optim/flat_parameters.h"
#include "tasks/optim/mixed_precision.h"
#include "tasks/optim/optimizer.h"
#include "tasks/task_factory.h"

int main(int argc, char** argv) {
  using namespace strike;
  const std::string backbone = argc > 1 ? argv[1] : "resnet50";
  const int64_t size = argc > 2 ? std::stoll(argv[2]) : 224;
  const int64_t batch = argc > 3 ? std::stoll(argv[3]) : 256;
  const int64_t steps = argc > 4 ? std::stoll(argv[4]) : 30;
  const int64_t warmup = argc > 5 ? std::stoll(argv[5]) : 10;
  const tasks::Precision precision = tasks::parse_precision(argc > 6 ? argv[6] : "bf16-mixed");
  if (!torch::cuda::is_available()) {
    std::fprintf(stderr, "strike_gpu_bench: no CUDA device\n");
    return 1;
  }
  const torch::Device dev(torch::kCUDA, 0);
  at::globalContext().setBenchmarkCuDNN(true);  // fixed shapes: let cuDNN pick its fastest kernels once

  const bool small = backbone == "small_cnn";
  const int64_t channels = small ? 1 : 3;
  const int classes = small ? 10 : 1000;
  core::Manifest m;
  m.task = "image_classification";
  m.fields = {{"image", "uint8", {channels, size, size}}, {"label", "int64", {}}};
  for (int i = 0; i < classes; ++i) m.class_names.push_back(std::to_string(i));
  tasks::ModelOptions model_options;
  model_options.backbone = backbone;
  torch::manual_seed(0);
  auto task = tasks::make_task(model_options, m);
  task->model().to(dev);
  tasks::FlatParameters params(task->model());
  tasks::OptimizerOptions o;  // the reference's optimizer: SGD, momentum 0.9, weight decay 1e-4
  o.name = "sgd";
  o.momentum = 0.9;
  o.weight_decay = 1e-4;
  auto optimizer = tasks::make_optimizer(o, params);
  tasks::LossScaler scaler(tasks::needs_loss_scaling(precision));

  tasks::TensorMap fields{
      {"image", torch::randn({batch, channels, size, size}, torch::TensorOptions().device(dev))},
      {"label", torch::randint(0, classes, {batch}, torch::TensorOptions().dtype(torch::kInt64).device(dev))}};
  using Clock = std::chrono::steady_clock;
  Clock::time_point start;
#ifndef STRIKE_BENCH_CUDA_GRAPH
  const char* label = "strike";
  for (int64_t step = 0; step < warmup + steps; ++step) {
    if (step == warmup) {
      torch::cuda::synchronize();
      start = Clock::now();
    }
    torch::Tensor loss;
    {
      tasks::AutocastScope autocast(precision, c10::DeviceType::CUDA);
      loss = task->loss(task->forward(fields), fields);
    }
    scaler.scale(loss).backward();
    const bool found_inf = scaler.unscale(params.grads());
    if (!found_inf) optimizer->step(0.1);
    scaler.update(found_inf);
    params.zero_grad();
  }
#else
  const char* label = "strike-graph";
  if (tasks::needs_loss_scaling(precision)) {
    std::fprintf(stderr, "strike_gpu_graph_bench: 16-mixed skips steps on the host, which a graph cannot; use 32 or bf16-mixed\n");
    return 1;
  }
  // A replayed graph reuses the cast weights it captured, so autocast must not cache casts across steps.
  at::autocast::set_autocast_cache_enabled(false);
  auto train_step = [&] {
    params.zero_grad();
    torch::Tensor loss;
    {
      tasks::AutocastScope autocast(precision, c10::DeviceType::CUDA);
      loss = task->loss(task->forward(fields), fields);
    }
    loss.backward();
    optimizer->step(0.1);
  };
  // Capture needs a side stream, and a few eager steps first so cuDNN's autotuning and the allocator's
  // first allocations happen outside the graph.
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  torch::cuda::synchronize();
  at::cuda::CUDAGraph graph;
  {
    c10::cuda::CUDAStreamGuard guard(side);
    for (int i = 0; i < 3; ++i) train_step();
    side.synchronize();
    graph.capture_begin();
    train_step();
    graph.capture_end();
  }
  torch::cuda::synchronize();
  for (int64_t step = 0; step < warmup + steps; ++step) {
    if (step == warmup) {
      torch::cuda::synchronize();
      start = Clock::now();
    }
    graph.replay();
  }
#endif
  torch::cuda::synchronize();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s %s %ldpx %s batch %ld: %ld steps in %.3f s\n", label, backbone.c_str(), static_cast<long>(size),
              tasks::to_string(precision).c_str(), static_cast<long>(batch), static_cast<long>(steps), seconds);
  std::printf("RESULT %s %.0f\n", label, static_cast<double>(steps * batch) / seconds);
  return 0;
}
