// Learning-rate schedules: pure functions of the optimizer step, and their registry.
#pragma once
#include "tasks/registry.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace strike::tasks {

// CLI flags and YAML keys map onto these fields one to one.
struct SchedulerOptions {
  std::string name = "cosine";      // scheduler registry name: constant, cosine, onecycle, step
  int64_t warmup_steps = -1;        // cosine: linear warm-up steps; -1 = 5% of all steps
  double min_lr_ratio = 0.0;        // cosine: final learning rate as a fraction of the peak
  double pct_start = 0.3;           // onecycle: fraction of steps spent rising to the peak
  int64_t step_size_epochs = 30;    // step: epochs between decays
  double gamma = 0.1;               // step: factor applied at each decay
};

// lr(step) for step = 0, 1, ... total_steps - 1 (later steps hold the last value).
//   constant: base_lr.
//   cosine:   base_lr * (step + 1) / warmup during warm-up, then cosine from base_lr to base_lr * min_lr_ratio.
//   onecycle: torch.optim.lr_scheduler.OneCycleLR (anneal "cos", div_factor 25, final_div_factor 1e4,
//             two phases) with max_lr = base_lr.
//   step:     torch StepLR over epochs: base_lr * gamma ^ floor(epoch / step_size_epochs).
class Scheduler {
 public:
  Scheduler(const SchedulerOptions& options, double base_lr, int64_t total_steps, int64_t steps_per_epoch);
  double lr(int64_t step) const;
  const std::string& name() const { return options_.name; }
  int64_t warmup_steps() const { return warmup_; }
  // Kind and resolved settings, for checkpoints and summaries.
  nlohmann::json meta() const;

 private:
  SchedulerOptions options_;
  double base_lr_;
  int64_t total_steps_, steps_per_epoch_;
  int64_t warmup_ = 0;  // resolved cosine warm-up
};

// Names and descriptions for `strike list schedulers`; the factory checks a name and returns it.
using SchedulerFactory = std::function<Scheduler(const SchedulerOptions&, double, int64_t, int64_t)>;
const Registry<SchedulerFactory>& schedulers();

}  // namespace strike::tasks
