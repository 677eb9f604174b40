// One-pass optimizer updates over raw float32 arrays: the CPU path of the fused optimizers.
#pragma once
#include <cstdint>

namespace strike::tasks::kernels {

// Scalars of one AdamW step, already in float as the tensor ops would round them.
struct AdamWScalars {
  float decay = 0;        // -lr * weight_decay (p += decay * mask * p)
  float beta1 = 0, one_minus_beta1 = 0;
  float beta2 = 0, one_minus_beta2 = 0;
  float sqrt_bias_correction2 = 1;
  float eps = 0;
  float step_size = 0;    // -lr / bias_correction1
};

// For i < n, in one pass and in the order of the tensor-op version (adamw.cpp):
//   p += decay * mask * p;  m = m * beta1 + (1 - beta1) * g;  v = v * beta2 + (1 - beta2) * g * g;
//   p += step_size * m / (sqrt(v) / sqrt_bias_correction2 + eps)
// (products and quotients associate left to right, as ATen's addcmul_/addcdiv_ kernels do)
// mask may be null when decay is 0.
void adamw_update(int64_t n, float* p, const float* g, float* m, float* v, const float* mask, const AdamWScalars& s);

struct SgdScalars {
  float weight_decay = 0;  // L2: d = g + weight_decay * mask * p
  float momentum = 0;      // buf = buf * momentum + d (no buffer when 0)
  bool nesterov = false;   // d = d + momentum * buf, else d = buf
  float neg_lr = 0;        // p += neg_lr * d
};

// For i < n: the SGD update above; buf may be null when momentum is 0, mask when weight_decay is 0.
void sgd_update(int64_t n, float* p, const float* g, float* buf, const float* mask, const SgdScalars& s);

}  // namespace strike::tasks::kernels
