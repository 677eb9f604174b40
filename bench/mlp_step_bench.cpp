// Small-model step rate: a tabular MLP (16 -> 64 -> 64 -> 3, ReLU, batch 64, cross-entropy) trained
// in C++ three ways, one thread, on a pool of pre-generated batches. bench/run_mlp_bench.sh runs it
// next to bench/mlp_reference.py (the same loop in Python PyTorch) and prints the ratios.
//
//   libtorch  nn::Sequential of nn::Linear/ReLU, F::cross_entropy, torch::optim::AdamW / SGD
//             (per-parameter optimizer, zero_grad per parameter): LibTorch as documented.
//   flat      the same LibTorch layers and loss, with strike's FlatParameters and fused optimizer.
//   strike    the pieces `strike-worker train` uses, called in the trainer's order (worker/trainer.cpp,
//             Trainer::train_epoch, one rank, precision 32): the task (ImageClassifier with the mlp
//             backbone and the linear head) forward and loss inside an AutocastScope, LossScaler
//             scale/unscale/update, backward, accumulate_metrics (loss sum, top-1/top-5 counts),
//             the scheduler's lr, the fused optimizer step, FlatParameters::zero_grad, and the running
//             averages the progress line reads. Not included: the loader, the progress drawing and
//             world-size-1 gradient sync (which does nothing).
//
// Usage: strike_mlp_step_bench [--breakdown] [steps] [warmup] [variant ...]; variants: libtorch-adamw,
// flat-adamw, strike-adamw, libtorch-sgd, flat-sgd, strike-sgd (default: all). Prints "<variant> <steps/s>"
// lines; --breakdown adds microseconds per step for each phase.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tasks/backbones/mlp.h"
#include "tasks/heads/linear_head.h"
#include "tasks/image_classifier.h"
#include "tasks/optim/flat_parameters.h"
#include "tasks/optim/mixed_precision.h"
#include "tasks/optim/optimizer.h"
#include "tasks/optim/scheduler.h"

using Clock = std::chrono::steady_clock;
namespace st = strike::tasks;

namespace {

constexpr int64_t kIn = 16, kHidden = 64, kClasses = 3, kBatch = 64, kPool = 16;

// The same hyper-parameters as bench/mlp_reference.py.
constexpr double kAdamLr = 1e-3, kAdamDecay = 1e-2;
constexpr double kSgdLr = 1e-2, kSgdMomentum = 0.9, kSgdDecay = 1e-4;

std::vector<st::TensorMap> make_pool() {
  torch::manual_seed(1);
  std::vector<st::TensorMap> pool;
  for (int64_t i = 0; i < kPool; ++i) {
    pool.push_back({{"image", torch::randn({kBatch, kIn})}, {"label", torch::randint(0, kClasses, {kBatch})}});
  }
  return pool;
}

double steps_per_second(Clock::time_point start, int64_t steps) {
  return static_cast<double>(steps) / std::chrono::duration<double>(Clock::now() - start).count();
}

// Where a step's time goes: seconds per phase, summed over the timed steps (--breakdown). The clock
// reads cost about 20 ns each, far below any phase.
struct Phases {
  static constexpr int kCount = 6;
  static constexpr const char* kNames[kCount] = {"forward+loss", "backward", "metrics", "optimizer", "zero_grad", "rest"};
  double seconds[kCount] = {};
  Clock::time_point last;
  bool on = false;
  void start() {
    on = true;
    last = Clock::now();
  }
  void mark(int phase) {
    if (!on) return;
    auto now = Clock::now();
    seconds[phase] += std::chrono::duration<double>(now - last).count();
    last = now;
  }
};
constexpr int kForward = 0, kBackward = 1, kMetrics = 2, kOptimizer = 3, kZeroGrad = 4, kRest = 5;

torch::nn::Sequential libtorch_mlp() {
  torch::manual_seed(0);
  return torch::nn::Sequential(torch::nn::Linear(kIn, kHidden), torch::nn::ReLU(), torch::nn::Linear(kHidden, kHidden),
                               torch::nn::ReLU(), torch::nn::Linear(kHidden, kClasses));
}

double run_libtorch(bool adamw, const std::vector<st::TensorMap>& pool, int64_t steps, int64_t warmup, Phases* ph) {
  auto model = libtorch_mlp();
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (adamw) {
    optimizer = std::make_unique<torch::optim::AdamW>(model->parameters(),
                                                      torch::optim::AdamWOptions(kAdamLr).weight_decay(kAdamDecay));
  } else {
    optimizer = std::make_unique<torch::optim::SGD>(
        model->parameters(), torch::optim::SGDOptions(kSgdLr).momentum(kSgdMomentum).weight_decay(kSgdDecay));
  }
  Clock::time_point start;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    if (step == warmup) {
      start = Clock::now();
      if (ph) ph->start();
    }
    const st::TensorMap& batch = pool[step % kPool];
    optimizer->zero_grad();
    if (ph) ph->mark(kZeroGrad);
    auto loss = torch::nn::functional::cross_entropy(model->forward(batch.at("image")), batch.at("label"));
    if (ph) ph->mark(kForward);
    loss.backward();
    if (ph) ph->mark(kBackward);
    optimizer->step();
    if (ph) ph->mark(kOptimizer);
  }
  return steps_per_second(start, steps);
}

st::OptimizerOptions strike_optimizer(bool adamw) {
  st::OptimizerOptions o;
  o.name = adamw ? "adamw" : "sgd";
  o.lr = adamw ? kAdamLr : kSgdLr;
  o.weight_decay = adamw ? kAdamDecay : kSgdDecay;
  o.momentum = kSgdMomentum;
  return o;
}

double run_flat(bool adamw, const std::vector<st::TensorMap>& pool, int64_t steps, int64_t warmup, Phases* ph) {
  auto model = libtorch_mlp();
  st::FlatParameters params(*model);
  st::OptimizerOptions o = strike_optimizer(adamw);
  auto optimizer = st::make_optimizer(o, params);
  Clock::time_point start;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    if (step == warmup) {
      start = Clock::now();
      if (ph) ph->start();
    }
    const st::TensorMap& batch = pool[step % kPool];
    auto loss = torch::nn::functional::cross_entropy(model->forward(batch.at("image")), batch.at("label"));
    if (ph) ph->mark(kForward);
    loss.backward();
    if (ph) ph->mark(kBackward);
    optimizer->step(o.lr);
    if (ph) ph->mark(kOptimizer);
    params.zero_grad();
    if (ph) ph->mark(kZeroGrad);
  }
  return steps_per_second(start, steps);
}

double run_strike(bool adamw, const std::vector<st::TensorMap>& pool, int64_t steps, int64_t warmup, Phases* ph) {
  torch::manual_seed(0);
  st::HeadOptions head_options;
  head_options.in_features = kHidden;
  head_options.out_features = kClasses;
  st::ImageClassifier task(std::make_shared<st::MlpBackbone>(kIn, std::vector<int64_t>{kHidden, kHidden}),
                           std::make_shared<st::LinearHead>(head_options), kClasses);
  st::FlatParameters params(task.model());
  st::OptimizerOptions o = strike_optimizer(adamw);
  auto optimizer = st::make_optimizer(o, params);
  st::SchedulerOptions scheduler_options;
  scheduler_options.name = "constant";
  st::Scheduler scheduler(scheduler_options, o.lr, warmup + steps, warmup + steps);
  const st::Precision precision = st::Precision::k32;
  st::LossScaler scaler(st::needs_loss_scaling(precision));
  st::MetricSums sums;
  double progress_sink = 0;  // what the progress line would show, kept so nothing is optimized away
  task.model().train();
  params.zero_grad();
  Clock::time_point start;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    if (step == warmup) {
      start = Clock::now();
      if (ph) ph->start();
    }
    const st::TensorMap& batch = pool[step % kPool];
    torch::Tensor output, loss;
    {
      st::AutocastScope autocast(precision, c10::DeviceType::CPU);
      output = task.forward(batch);
      loss = task.loss(output, batch);
    }
    if (ph) ph->mark(kForward);
    scaler.scale(loss).backward();
    if (ph) ph->mark(kBackward);
    {
      torch::NoGradGuard no_grad;
      task.accumulate_metrics(output.detach(), batch, loss.detach(), sums);
    }
    if (ph) ph->mark(kMetrics);
    double lr = scheduler.lr(step);
    const bool overflow = scaler.unscale(params.grads());
    if (!overflow) optimizer->step(lr);
    scaler.update(overflow);
    if (ph) ph->mark(kOptimizer);
    params.zero_grad();
    if (ph) ph->mark(kZeroGrad);
    auto avg = sums.averages();
    progress_sink += avg["loss"] + (avg.count("top1") ? avg["top1"] : 0);
    if (ph) ph->mark(kRest);
  }
  double rate = steps_per_second(start, steps);
  if (!(progress_sink == progress_sink)) std::fprintf(stderr, "warning: the training loss became NaN\n");
  return rate;
}

using Runner = double (*)(bool, const std::vector<st::TensorMap>&, int64_t, int64_t, Phases*);

Runner runner(const std::string& variant, bool& adamw) {
  const auto dash = variant.find('-');
  const std::string kind = variant.substr(0, dash), opt = dash == std::string::npos ? "" : variant.substr(dash + 1);
  if (opt != "adamw" && opt != "sgd") return nullptr;
  adamw = opt == "adamw";
  if (kind == "libtorch") return run_libtorch;
  if (kind == "flat") return run_flat;
  if (kind == "strike") return run_strike;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool breakdown = !args.empty() && args[0] == "--breakdown";
  if (breakdown) args.erase(args.begin());
  int64_t steps = args.size() > 0 ? std::stoll(args[0]) : 20000;
  int64_t warmup = args.size() > 1 ? std::stoll(args[1]) : 500;
  std::vector<std::string> variants(args.begin() + std::min<size_t>(args.size(), 2), args.end());
  if (variants.empty()) {
    variants = {"libtorch-adamw", "flat-adamw", "strike-adamw", "libtorch-sgd", "flat-sgd", "strike-sgd"};
  }
  torch::set_num_threads(1);
  const auto pool = make_pool();
  for (const auto& v : variants) {
    bool adamw = true;
    Runner run = runner(v, adamw);
    if (run == nullptr) {
      std::fprintf(stderr, "unknown variant '%s' (libtorch|flat|strike)-(adamw|sgd)\n", v.c_str());
      return 2;
    }
    Phases phases;
    double rate = run(adamw, pool, steps, warmup, breakdown ? &phases : nullptr);
    std::printf("%s %.1f\n", v.c_str(), rate);
    if (breakdown) {
      for (int i = 0; i < Phases::kCount; ++i) {
        if (phases.seconds[i] > 0) {
          std::printf("  %-13s %7.1f us/step\n", Phases::kNames[i], 1e6 * phases.seconds[i] / static_cast<double>(steps));
        }
      }
    }
    std::fflush(stdout);
  }
  return 0;
}
