// Training throughput of one strike step on one GPU (images/s), without the loader: synthetic data already on
// the GPU, as bench/gpu_reference.py feeds plain PyTorch eager. bench/gpu_bench.sh runs both in one call.
// Usage: strike_gpu_bench [backbone=resnet50] [size=224] [batch=256] [steps=30] [warmup=10] [precision=bf16-mixed]
// Prints one line: "RESULT strike <images/s>".
#include <ATen/Context.h>
#include <torch/torch.h>

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

  core::Manifest m;
  m.task = "image_classification";
  m.fields = {{"image", "uint8", {3, size, size}}, {"label", "int64", {}}};
  for (int i = 0; i < 1000; ++i) m.class_names.push_back(std::to_string(i));
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

  tasks::TensorMap fields{{"image", torch::randn({batch, 3, size, size}, torch::TensorOptions().device(dev))},
                          {"label", torch::randint(0, 1000, {batch}, torch::TensorOptions().dtype(torch::kInt64).device(dev))}};
  using Clock = std::chrono::steady_clock;
  Clock::time_point start;
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
  torch::cuda::synchronize();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("strike %s %ldpx %s batch %ld: %ld steps in %.2f s\n", backbone.c_str(), static_cast<long>(size),
              tasks::to_string(precision).c_str(), static_cast<long>(batch), static_cast<long>(steps), seconds);
  std::printf("RESULT strike %.0f\n", static_cast<double>(steps * batch) / seconds);
  return 0;
}
