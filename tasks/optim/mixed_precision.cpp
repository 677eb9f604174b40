// Precision parsing and support checks, the autocast scope, and the loss scaler's CPU and CUDA paths.
#include "tasks/optim/mixed_precision.h"

#include "core/compat.h"
#include "core/error.h"

#include <ATen/autocast_mode.h>

#include <cmath>
#include <vector>

namespace strike::tasks {

namespace {

const char* const kChoices = "32, bf16-mixed, 16-mixed";

at::ScalarType autocast_dtype(Precision precision) {
  return precision == Precision::kBf16Mixed ? at::kBFloat16 : at::kHalf;
}

// One tiny fp16 forward and backward under CPU autocast answers for any LibTorch version: 1.13 refuses
// the dtype outright, and a version that accepts it may still lack fp16 CPU kernels or ignore it.
bool cpu_fp16_autocast_works() {
  try {
    // Constants, not randn: the probe must not advance the global generator that seeds training.
    torch::Tensor x = torch::full({2, 3, 4, 4}, 0.5);
    torch::Tensor conv_w = torch::full({4, 3, 3, 3}, 0.1, torch::requires_grad());
    torch::Tensor fc_w = torch::full({5, 4 * 2 * 2}, 0.1, torch::requires_grad());
    torch::Tensor y;
    {
      AutocastScope scope(Precision::k16Mixed, c10::DeviceType::CPU);
      y = torch::linear(torch::conv2d(x, conv_w).flatten(1), fc_w);
    }
    if (y.scalar_type() != at::kHalf) return false;  // autocast silently ignored the dtype
    y.to(at::kFloat).sum().backward();
    return conv_w.grad().defined() && fc_w.grad().defined();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

Precision parse_precision(const std::string& text) {
  if (text == "32") return Precision::k32;
  if (text == "bf16-mixed") return Precision::kBf16Mixed;
  if (text == "16-mixed") return Precision::k16Mixed;
  throw UsageError("unknown precision '" + text + "'", "--precision", std::string("choose one of: ") + kChoices);
}

std::string to_string(Precision precision) {
  switch (precision) {
    case Precision::k32: return "32";
    case Precision::kBf16Mixed: return "bf16-mixed";
    case Precision::k16Mixed: return "16-mixed";
  }
  return "32";
}

void check_precision_supported(Precision precision, c10::DeviceType device) {
  if (precision == Precision::k32) return;
  const std::string name = to_string(precision);
  if (device != c10::DeviceType::CPU && device != c10::DeviceType::CUDA) {
    throw UsageError("--precision " + name + " is not supported on " + c10::DeviceTypeName(device), "--precision",
                     "mixed precision runs on CPU and CUDA; use --precision 32 here");
  }
  if (precision == Precision::k16Mixed && device == c10::DeviceType::CPU) {
    static const bool works = cpu_fp16_autocast_works();
    if (!works) {
      throw UsageError("--precision 16-mixed needs fp16 autocast, which this LibTorch (" TORCH_VERSION
                       ") does not run on CPU",
                       "--precision", "use --precision bf16-mixed on CPU, or 16-mixed on a CUDA device");
    }
  }
}

AutocastScope::AutocastScope(Precision precision, c10::DeviceType device) : device_(device) {
  if (precision == Precision::k32) return;
  if (device != c10::DeviceType::CPU && device != c10::DeviceType::CUDA) {
    throw UsageError(std::string("autocast is not supported on ") + c10::DeviceTypeName(device), "AutocastScope",
                     "use --precision 32");
  }
  previous_enabled_ = compat::autocast_enabled(device);
  // Not deprecated in 2.x, unlike get_autocast_cpu_dtype(), and present in 1.13: no compat shim needed.
  previous_dtype_ = at::autocast::get_lower_precision_fp_from_device_type(device);
  try {
    compat::set_autocast(device, true, autocast_dtype(precision));
  } catch (...) {
    // LibTorch 1.13 refuses fp16 for CPU autocast after the flag is already on: undo, or every later
    // op on this thread would silently run in bf16.
    compat::set_autocast(device, previous_enabled_, previous_dtype_);
    throw;
  }
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // torch.autocast's order: an inner scope keeps the cache, since the outer one may reuse the casts.
  if (at::autocast::decrement_nesting() == 0) compat::clear_autocast_cache();
  compat::set_autocast(device_, previous_enabled_, previous_dtype_);
}

LossScaler::LossScaler(bool enabled, LossScalerOptions options) : enabled_(enabled), options_(options) {
  require(std::isfinite(options.init_scale) && options.init_scale > 0, "loss scaler init_scale must be positive");
  require(options.growth_factor > 1.0, "loss scaler growth_factor must be above 1");
  require(options.backoff_factor > 0.0 && options.backoff_factor < 1.0, "loss scaler backoff_factor must lie in (0, 1)");
  require(options.growth_interval > 0, "loss scaler growth_interval must be positive");
  scale_ = torch::full({}, options.init_scale, torch::kFloat32);
  growth_tracker_ = torch::zeros({}, torch::kInt32);
  found_inf_ = torch::zeros({}, torch::kFloat32);
}

void LossScaler::to_device(const torch::Device& device) {
  if (scale_.device() == device) return;
  scale_ = scale_.to(device);
  growth_tracker_ = growth_tracker_.to(device);
  found_inf_ = found_inf_.to(device);
}

torch::Tensor LossScaler::scale(const torch::Tensor& loss) {
  if (!enabled_) return loss;
  to_device(loss.device());
  return loss * scale_;
}

bool LossScaler::unscale(torch::Tensor& flat_grads) {
  if (!enabled_) return false;
  if (flat_grads.scalar_type() != torch::kFloat32 || !flat_grads.is_contiguous()) {
    throw Error("gradients to unscale must be one contiguous float32 buffer, got " +
                    std::string(c10::toString(flat_grads.scalar_type())),
                "LossScaler::unscale", "pass FlatParameters::grads()");
  }
  torch::NoGradGuard no_grad;
  to_device(flat_grads.device());
  if (flat_grads.is_cuda()) {
    // One fused kernel, with the scale and the flag staying on the device; item() is the step's only sync.
    found_inf_.zero_();
    torch::Tensor inv_scale = scale_.to(torch::kFloat64).reciprocal().to(torch::kFloat32);
    std::vector<torch::Tensor> grads{flat_grads};
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, inv_scale);
    return found_inf_.item<float>() != 0.0f;
  }
  // CPU (LibTorch 1.13 has no CPU kernels for the _amp ops): two cheap passes and no buffer-sized
  // temporary. A sum is finite exactly when every element is, unless finite values overflow it, which
  // the rare fallback rules out. Like GradScaler, the check looks at the scaled values.
  const double sum = flat_grads.sum().item<double>();
  const bool found_inf = !std::isfinite(sum) && !torch::isfinite(flat_grads).all().item<bool>();
  const float inv_scale = static_cast<float>(1.0 / static_cast<double>(scale_.item<float>()));
  if (inv_scale != 1.0f) flat_grads.mul_(static_cast<double>(inv_scale));
  return found_inf;
}

void LossScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) ++skipped_steps_;
  torch::NoGradGuard no_grad;
  if (scale_.is_cuda()) {
    found_inf_.fill_(found_inf ? 1.0 : 0.0);
    at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, options_.growth_factor, options_.backoff_factor,
                           options_.growth_interval);
    return;
  }
  // The CUDA kernel's arithmetic: float32 scale, factors rounded to float32.
  float& scale = *scale_.data_ptr<float>();
  int32_t& tracker = *growth_tracker_.data_ptr<int32_t>();
  if (found_inf) {
    scale *= static_cast<float>(options_.backoff_factor);
    tracker = 0;
    return;
  }
  const int64_t successful = static_cast<int64_t>(tracker) + 1;
  if (successful >= options_.growth_interval) {
    const float grown = scale * static_cast<float>(options_.growth_factor);
    if (std::isfinite(grown)) scale = grown;
    tracker = 0;
  } else {
    tracker = static_cast<int32_t>(successful);
  }
}

double LossScaler::scale_value() const { return enabled_ ? static_cast<double>(scale_.item<float>()) : 1.0; }

int64_t LossScaler::growth_tracker() const { return growth_tracker_.item<int32_t>(); }

nlohmann::json LossScaler::state() const {
  return {{"enabled", enabled_},
          {"scale", static_cast<double>(scale_.item<float>())},
          {"growth_tracker", growth_tracker()},
          {"skipped_steps", skipped_steps_}};
}

void LossScaler::load_state(const nlohmann::json& state) {
  const auto bad = [](const std::string& what) {
    return Error("loss scaler state: " + what, "checkpoint", "the checkpoint is damaged or not from strike");
  };
  if (!state.is_object()) throw bad("not a JSON object");
  for (const char* key : {"enabled", "scale", "growth_tracker", "skipped_steps"}) {
    if (!state.contains(key)) throw bad(std::string("missing '") + key + "'");
  }
  if (!state["enabled"].is_boolean() || !state["scale"].is_number() || !state["growth_tracker"].is_number_integer() ||
      !state["skipped_steps"].is_number_integer()) {
    throw bad("wrong value types");
  }
  const double scale = state["scale"].get<double>();
  const int64_t tracker = state["growth_tracker"].get<int64_t>();
  const int64_t skipped = state["skipped_steps"].get<int64_t>();
  if (!std::isfinite(scale) || scale <= 0 || tracker < 0 || tracker > INT32_MAX || skipped < 0) {
    throw bad("scale, growth_tracker or skipped_steps out of range");
  }
  skipped_steps_ = skipped;
  if (!enabled_ || !state["enabled"].get<bool>()) return;
  torch::NoGradGuard no_grad;
  scale_.fill_(scale);
  growth_tracker_.fill_(tracker);
}

}  // namespace strike::tasks
