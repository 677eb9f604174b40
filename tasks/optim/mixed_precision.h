// Mixed precision: the --precision choice, an autocast scope, and GradScaler-style dynamic loss scaling.
#pragma once
#include <c10/core/DeviceType.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace strike::tasks {

// Parameters, gradients and optimizer state stay float32 in every mode; only autocast's op outputs
// are lower precision.
enum class Precision { k32, kBf16Mixed, k16Mixed };

// "32" | "bf16-mixed" | "16-mixed" (Lightning's names); anything else is a UsageError listing them.
Precision parse_precision(const std::string& text);
std::string to_string(Precision precision);

// Throws UsageError (with a hint) when `precision` cannot run on `device`. 16-mixed on CPU is probed
// once (a tiny fp16 conv + linear step) rather than decided by version number: LibTorch 1.13 refuses
// fp16 for CPU autocast, later versions accept it, with fp16 CPU kernels arriving op by op.
void check_precision_supported(Precision precision, c10::DeviceType device);

// Whether `precision` needs loss scaling: fp16's narrow exponent underflows small gradients, bf16's
// does not.
inline bool needs_loss_scaling(Precision precision) { return precision == Precision::k16Mixed; }

// Autocast on `device` with bf16 or fp16 for the scope (a no-op for k32). Put the forward pass and the
// loss inside, backward outside (autograd already runs each op in its forward dtype). Restores the
// previous enabled flag and dtype on exit, and clears autocast's weight-cast cache when the outermost
// scope ends, as torch.autocast does, so casts of weights from before the optimizer step are not reused.
class AutocastScope {
 public:
  AutocastScope(Precision precision, c10::DeviceType device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

// PyTorch GradScaler's defaults.
struct LossScalerOptions {
  double init_scale = 65536.0;     // 2^16: the first steps usually overflow and back off a few times
  double growth_factor = 2.0;      // scale *= this after growth_interval finite steps in a row
  double backoff_factor = 0.5;     // scale *= this on every step with inf/NaN gradients
  int64_t growth_interval = 2000;  // finite steps in a row before the scale grows
};

// Dynamic loss scaling equivalent to torch.cuda.amp.GradScaler, over one flat float32 gradient buffer
// (FlatParameters::grads()). The scale is a float32 scalar tensor on the gradients' device, as in
// GradScaler, so the CUDA path uses ATen's _amp_* kernels without a host round trip for the scale.
//
// Per step: backward(scaler.scale(loss)); all-reduce the gradients; found = scaler.unscale(grads);
// if (!found) { clip; optimizer.step(lr); } scaler.update(found).
class LossScaler {
 public:
  explicit LossScaler(bool enabled, LossScalerOptions options = {});

  bool enabled() const { return enabled_; }
  // loss * scale (float32 scale, as GradScaler); the loss itself when disabled.
  torch::Tensor scale(const torch::Tensor& loss);
  // Multiplies the gradients in place by 1/scale (computed in float64, then rounded to float32, as
  // GradScaler) and returns whether any of them is inf/NaN. Call it after the gradient all-reduce, so
  // every rank sees the same gradients and takes the same skip decision, and before clipping, which
  // needs true gradient norms. Disabled: leaves the gradients alone and returns false.
  bool unscale(torch::Tensor& flat_grads);
  // GradScaler.update(): on inf/NaN multiplies the scale by backoff_factor, resets the growth tracker
  // and counts a skipped step (the caller must not step the optimizer); after growth_interval finite
  // steps in a row multiplies the scale by growth_factor (unless that overflows float32).
  void update(bool found_inf);

  double scale_value() const;  // 1 when disabled, as GradScaler.get_scale()
  int64_t growth_tracker() const;
  int64_t skipped_steps() const { return skipped_steps_; }

  // {"enabled", "scale", "growth_tracker", "skipped_steps"} for the checkpoint. load_state() restores
  // them when both this scaler and the saved one are enabled, and only skipped_steps otherwise (a run
  // resumed in another precision starts scaling afresh); a malformed state is an Error.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  // Moves the scale and growth tracker to `device` (the first call after construction or a resume).
  void to_device(const torch::Device& device);

  bool enabled_;
  LossScalerOptions options_;
  torch::Tensor scale_;           // float32, 0-dim
  torch::Tensor growth_tracker_;  // int32, 0-dim: finite steps in a row since the last change
  torch::Tensor found_inf_;       // float32, 0-dim: the CUDA kernels' flag
  int64_t skipped_steps_ = 0;
};

}  // namespace strike::tasks
