// The one-pass AdamW and SGD loops. This file includes no LibTorch header and is compiled with
// -fno-math-errno (so sqrt vectorizes) and -ffp-contract=off: every clone (AVX-512, AVX2, baseline)
// rounds exactly like the others and like the element-wise tensor ops, so ranks on different CPUs
// keep bitwise-identical parameters.
#include "tasks/optim/update_kernels.h"

#include <cmath>

namespace strike::tasks::kernels {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define STRIKE_UPDATE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define STRIKE_UPDATE_CLONES
#endif

STRIKE_UPDATE_CLONES
void adamw_update(int64_t n, float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                  const float* __restrict mask, const AdamWScalars& s) {
  const float decay = s.decay, b1 = s.beta1, c1 = s.one_minus_beta1, b2 = s.beta2, c2 = s.one_minus_beta2;
  const float sq2 = s.sqrt_bias_correction2, eps = s.eps, step = s.step_size;
  if (mask != nullptr && decay != 0) {
    for (int64_t i = 0; i < n; ++i) {
      float pi = p[i] + decay * (mask[i] * p[i]);
      const float gi = g[i];
      const float mi = m[i] * b1 + c1 * gi;
      const float vi = v[i] * b2 + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi + step * mi / (std::sqrt(vi) / sq2 + eps);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float mi = m[i] * b1 + c1 * gi;
      const float vi = v[i] * b2 + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] + step * mi / (std::sqrt(vi) / sq2 + eps);
    }
  }
}

STRIKE_UPDATE_CLONES
void sgd_update(int64_t n, float* __restrict p, const float* __restrict g, float* __restrict buf,
                const float* __restrict mask, const SgdScalars& s) {
  const float wd = mask != nullptr ? s.weight_decay : 0.0f, mom = s.momentum, neg_lr = s.neg_lr;
  if (buf == nullptr) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = wd != 0 ? g[i] + wd * (mask[i] * p[i]) : g[i];
      p[i] = p[i] + neg_lr * d;
    }
  } else if (s.nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = wd != 0 ? g[i] + wd * (mask[i] * p[i]) : g[i];
      const float b = buf[i] * mom + d;
      buf[i] = b;
      p[i] = p[i] + neg_lr * (d + mom * b);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float d = wd != 0 ? g[i] + wd * (mask[i] * p[i]) : g[i];
      const float b = buf[i] * mom + d;
      buf[i] = b;
      p[i] = p[i] + neg_lr * b;
    }
  }
}

}  // namespace strike::tasks::kernels
