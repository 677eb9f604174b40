// The one place where LibTorch 1.13 (Debian, CI) and 2.x (CUDA machines) differ for strike.
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace strike::compat {

constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

// LibTorch 1.x declares BatchNormImplBase<D, Derived>::pretty_print in its header but defines it in a
// .cpp without exporting it, so a class derived from BatchNorm2dImpl (tasks/backbones/batch_norm)
// cannot link unless strike defines it; recent 2.x headers define it inline (2.11, the GPU build).
// If an early 2.x fails to link on that symbol, widen this condition.
#define STRIKE_DEFINE_BATCHNORM2D_PRETTY_PRINT (TORCH_VERSION_MAJOR < 2)

// Turns autocast on or off for one device type with the given lower-precision dtype.
inline void set_autocast(c10::DeviceType device, bool enabled, at::ScalarType dtype) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

// Whether autocast is on for one device type.
inline bool autocast_enabled(c10::DeviceType device) {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

// Leaves autocast's cast cache consistent after a region ends (same call on both versions).
inline void clear_autocast_cache() { at::autocast::clear_cache(); }

}  // namespace strike::compat
