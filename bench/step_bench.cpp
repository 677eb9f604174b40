// Step-time breakdown of image-classifier training in C++, without the loader: isolates where a step's time goes.
#include <chrono>
#include <cstdio>
#include <string>

#include "core/manifest.h"
#include "tasks/optim/flat_parameters.h"
#include "tasks/optim/optimizer.h"
#include "tasks/task_factory.h"

using Clock = std::chrono::steady_clock;

namespace {

strike::core::Manifest fashion_like_manifest() {
  strike::core::Manifest m;
  m.task = "image_classification";
  m.fields = {{"image", "uint8", {1, 28, 28}}, {"label", "int64", {}}};
  for (int i = 0; i < 10; ++i) m.class_names.push_back(std::to_string(i));
  return m;
}

// Runs `steps` training steps after `warmup` and returns samples/s; `flat` picks strike's fused
// flat-buffer AdamW, otherwise LibTorch's per-parameter torch::optim::AdamW with fresh gradients.
double run(bool flat, bool metrics, int64_t batch, int64_t steps, int64_t warmup) {
  torch::manual_seed(0);
  strike::tasks::ModelOptions model_options;
  auto task = strike::tasks::make_task(model_options, fashion_like_manifest());
  auto images = torch::randn({batch, 1, 28, 28});
  auto labels = torch::randint(0, 10, {batch}, torch::kInt64);
  strike::tasks::TensorMap fields{{"image", images}, {"label", labels}};
  std::unique_ptr<strike::tasks::FlatParameters> params;
  std::unique_ptr<strike::tasks::Optimizer> fused;
  std::unique_ptr<torch::optim::AdamW> reference;
  if (flat) {
    params = std::make_unique<strike::tasks::FlatParameters>(task->model());
    fused = strike::tasks::make_optimizer({}, *params);
  } else {
    reference = std::make_unique<torch::optim::AdamW>(task->model().parameters(), torch::optim::AdamWOptions(1e-3));
  }
  strike::tasks::MetricSums sums;
  Clock::time_point start;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    if (step == warmup) start = Clock::now();
    auto output = task->forward(fields);
    auto loss = task->loss(output, fields);
    if (!flat) reference->zero_grad();
    loss.backward();
    if (metrics) {
      torch::NoGradGuard no_grad;
      task->accumulate_metrics(output.detach(), fields, loss.detach(), sums);
    }
    if (flat) {
      fused->step(1e-3);
      params->zero_grad();
    } else {
      reference->step();
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(steps * batch) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::stoi(argv[1]) : 2;
  int64_t steps = argc > 2 ? std::stoll(argv[2]) : 200;
  torch::set_num_threads(threads);
  std::printf("threads %d, batch 128, %ld steps after 20 warm-up\n", threads, steps);
  std::printf("flat AdamW + metrics:     %.0f samples/s\n", run(true, true, 128, steps, 20));
  std::printf("flat AdamW, no metrics:   %.0f samples/s\n", run(true, false, 128, steps, 20));
  std::printf("torch::optim::AdamW:      %.0f samples/s\n", run(false, false, 128, steps, 20));
  return 0;
}
