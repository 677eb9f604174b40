// The learning-rate formulas and the scheduler registry.
#include "tasks/optim/scheduler.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace strike::tasks {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kOneCycleDiv = 25.0;         // OneCycleLR div_factor: initial = max / 25
constexpr double kOneCycleFinalDiv = 1e4;     // OneCycleLR final_div_factor: final = initial / 1e4

// OneCycleLR's _annealing_cos: from `start` at pct 0 to `end` at pct 1.
double anneal_cos(double start, double end, double pct) { return end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1); }
}  // namespace

Scheduler::Scheduler(const SchedulerOptions& options, double base_lr, int64_t total_steps, int64_t steps_per_epoch)
    : options_(options),
      base_lr_(base_lr),
      total_steps_(std::max<int64_t>(total_steps, 1)),
      steps_per_epoch_(std::max<int64_t>(steps_per_epoch, 1)) {
  schedulers().get(options.name);  // rejects unknown names, listing the known ones
  if (options.name == "cosine") {
    warmup_ = options.warmup_steps >= 0 ? options.warmup_steps
                                        : static_cast<int64_t>(std::llround(0.05 * static_cast<double>(total_steps_)));
    warmup_ = std::min(warmup_, total_steps_);
  } else if (options.name == "onecycle") {
    require(options.pct_start > 0 && options.pct_start < 1, "onecycle --pct-start must lie in (0, 1)");
  } else if (options.name == "step") {
    require(options.step_size_epochs > 0, "step --step-size must be positive");
  }
}

double Scheduler::lr(int64_t step) const {
  step = std::clamp<int64_t>(step, 0, total_steps_ - 1);
  const std::string& kind = options_.name;
  if (kind == "cosine") {
    if (step < warmup_) return base_lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_);
    double min_lr = base_lr_ * options_.min_lr_ratio;
    int64_t span = total_steps_ - warmup_;
    double progress = span > 0 ? static_cast<double>(step - warmup_) / static_cast<double>(span) : 1.0;
    return min_lr + (base_lr_ - min_lr) * 0.5 * (1 + std::cos(kPi * progress));
  }
  if (kind == "onecycle") {
    // Same phase boundaries and float arithmetic as PyTorch's OneCycleLR (three_phase=False).
    double initial = base_lr_ / kOneCycleDiv, final_lr = initial / kOneCycleFinalDiv;
    double peak_step = options_.pct_start * static_cast<double>(total_steps_) - 1;
    double last_step = static_cast<double>(total_steps_ - 1);
    double s = static_cast<double>(step);
    if (s <= peak_step) return anneal_cos(initial, base_lr_, peak_step > 0 ? s / peak_step : 1.0);
    double fall = last_step - peak_step;
    return anneal_cos(base_lr_, final_lr, fall > 0 ? (s - peak_step) / fall : 1.0);
  }
  if (kind == "step") {
    int64_t epoch = step / steps_per_epoch_;
    return base_lr_ * std::pow(options_.gamma, static_cast<double>(epoch / options_.step_size_epochs));
  }
  return base_lr_;  // constant
}

nlohmann::json Scheduler::meta() const {
  nlohmann::json j = {{"name", options_.name}, {"base_lr", base_lr_}, {"total_steps", total_steps_},
                      {"steps_per_epoch", steps_per_epoch_}};
  if (options_.name == "cosine") {
    j["warmup_steps"] = warmup_;
    j["min_lr_ratio"] = options_.min_lr_ratio;
  } else if (options_.name == "onecycle") {
    j["pct_start"] = options_.pct_start;
  } else if (options_.name == "step") {
    j["step_size_epochs"] = options_.step_size_epochs;
    j["gamma"] = options_.gamma;
  }
  return j;
}

const Registry<SchedulerFactory>& schedulers() {
  auto make = [](const SchedulerOptions& o, double lr, int64_t total, int64_t per_epoch) {
    return Scheduler(o, lr, total, per_epoch);
  };
  static const Registry<SchedulerFactory> registry("scheduler", {
      {"constant", "the same learning rate at every step", make},
      {"cosine", "linear warm-up (--warmup-steps, default 5%), then cosine decay to --min-lr-ratio", make},
      {"onecycle", "PyTorch OneCycleLR: cosine rise over --pct-start to the peak, then cosine fall to peak/2.5e5", make},
      {"step", "multiply by --gamma every --step-size epochs (PyTorch StepLR)", make},
  });
  return registry;
}

}  // namespace strike::tasks
