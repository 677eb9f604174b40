// The small float32 GEMM: B packed into zero-padded panels one vector wide, an 8-row register-blocked
// micro-kernel written with GCC/Clang vector extensions at the machine's native width (AVX-512,
// AVX2+FMA or SSE2), chosen once at run time. This file includes no LibTorch header.
#include "tasks/nn/small_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace strike::tasks::kernels {

namespace {

constexpr int kMr = 8;  // rows per micro-kernel call: 8 independent accumulators hide FMA latency

#define STRIKE_INLINE inline __attribute__((always_inline))

// W floats per vector: one native register of the target the caller is compiled for.
template <int W>
struct Simd {
  typedef float Vec __attribute__((vector_size(W * sizeof(float))));
};

// Rows [0, MR) of one panel (W columns, `cols` of them valid):
// acc(r) = sum_k A(r, k) * panel(k), then the epilogue. Vectors never cross a call boundary.
template <int W, int MR>
STRIKE_INLINE void micro(const GemmArgs& g, const float* a, const float* panel, int64_t cols, float* c,
                         const float* bias, const float* gate) {
  using Vec = typename Simd<W>::Vec;
  Vec acc[MR];
  for (int r = 0; r < MR; ++r) acc[r] = Vec{};
  const int64_t a_row = g.a_row, a_col = g.a_col;
  for (int64_t k = 0; k < g.k; ++k) {
    Vec bv;
    std::memcpy(&bv, panel + k * W, sizeof(Vec));
    const float* ak = a + k * a_col;
    for (int r = 0; r < MR; ++r) acc[r] += ak[r * a_row] * bv;
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * g.ldc;
    const float* gr = gate ? gate + r * g.ldg : nullptr;
    if (cols == W) {
      Vec v = acc[r], t;
      if (g.accumulate) {
        std::memcpy(&t, cr, sizeof(Vec));
        v += t;
      }
      if (bias) {
        std::memcpy(&t, bias, sizeof(Vec));
        v += t;
      }
      if (g.relu) v = v > 0 ? v : Vec{};
      if (gr) {
        std::memcpy(&t, gr, sizeof(Vec));
        v = t > 0 ? v : Vec{};
      }
      std::memcpy(cr, &v, sizeof(Vec));
    } else {
      float tmp[W];
      std::memcpy(tmp, &acc[r], sizeof(Vec));
      for (int64_t j = 0; j < cols; ++j) {
        float v = tmp[j];
        if (g.accumulate) v += cr[j];
        if (bias) v += bias[j];
        if (g.relu) v = v > 0 ? v : 0.0f;
        if (gr && !(gr[j] > 0)) v = 0.0f;
        cr[j] = v;
      }
    }
  }
}

template <int W>
STRIKE_INLINE void compute(const GemmArgs& g, const float* packed, const float* bias_padded) {
  const int64_t panels = (g.n + W - 1) / W;
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t j0 = p * W;
    const int64_t cols = std::min<int64_t>(W, g.n - j0);
    const float* panel = packed + p * g.k * W;
    const float* bias = bias_padded ? bias_padded + j0 : nullptr;
    int64_t i = 0;
    for (; i + kMr <= g.m; i += kMr) {
      micro<W, kMr>(g, g.a + i * g.a_row, panel, cols, g.c + i * g.ldc + j0, bias,
                    g.gate ? g.gate + i * g.ldg + j0 : nullptr);
    }
    const float* a = g.a + i * g.a_row;
    float* c = g.c + i * g.ldc + j0;
    const float* gate = g.gate ? g.gate + i * g.ldg + j0 : nullptr;
    switch (g.m - i) {
      case 7: micro<W, 7>(g, a, panel, cols, c, bias, gate); break;
      case 6: micro<W, 6>(g, a, panel, cols, c, bias, gate); break;
      case 5: micro<W, 5>(g, a, panel, cols, c, bias, gate); break;
      case 4: micro<W, 4>(g, a, panel, cols, c, bias, gate); break;
      case 3: micro<W, 3>(g, a, panel, cols, c, bias, gate); break;
      case 2: micro<W, 2>(g, a, panel, cols, c, bias, gate); break;
      case 1: micro<W, 1>(g, a, panel, cols, c, bias, gate); break;
      default: break;
    }
  }
}

// Packs B as [panel][k][W] (the last panel zero-padded) and the bias to whole panels, in per-thread
// scratch that grows once, then runs the micro-kernels.
template <int W>
STRIKE_INLINE void gemm_width(const GemmArgs& g) {
  const int64_t panels = (g.n + W - 1) / W;
  thread_local std::vector<float> packed, bias;
  const size_t need = static_cast<size_t>(panels * std::max<int64_t>(g.k, 1) * W);
  if (packed.size() < need) packed.resize(need);
  float* out = packed.data();
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t j0 = p * W;
    const int64_t cols = std::min<int64_t>(W, g.n - j0);
    for (int64_t k = 0; k < g.k; ++k) {
      const float* src = g.b + k * g.b_row + j0 * g.b_col;
      float* dst = out + (p * g.k + k) * W;
      if (g.b_col == 1) {
        std::memcpy(dst, src, cols * sizeof(float));
      } else {
        for (int64_t j = 0; j < cols; ++j) dst[j] = src[j * g.b_col];
      }
      for (int64_t j = cols; j < W; ++j) dst[j] = 0.0f;
    }
  }
  const float* bias_padded = nullptr;
  if (g.bias) {
    const size_t padded = static_cast<size_t>(panels * W);
    if (bias.size() < padded) bias.resize(padded);
    std::memcpy(bias.data(), g.bias, g.n * sizeof(float));
    std::fill(bias.begin() + g.n, bias.begin() + padded, 0.0f);
    bias_padded = bias.data();
  }
  compute<W>(g, out, bias_padded);
}

template <int W>
STRIKE_INLINE void column_sums_width(int64_t m, int64_t n, const float* a, int64_t lda, float* out) {
  using Vec = typename Simd<W>::Vec;
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    Vec acc{}, t;
    for (int64_t i = 0; i < m; ++i) {
      std::memcpy(&t, a + i * lda + j, sizeof(Vec));
      acc += t;
    }
    std::memcpy(out + j, &acc, sizeof(Vec));
  }
  for (; j < n; ++j) {
    float acc = 0;
    for (int64_t i = 0; i < m; ++i) acc += a[i * lda + j];
    out[j] = acc;
  }
}

template <int W>
STRIKE_INLINE void relu_backward_width(int64_t n, const float* g, const float* gate, float* out) {
  using Vec = typename Simd<W>::Vec;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    Vec gv, yv;
    std::memcpy(&gv, g + i, sizeof(Vec));
    std::memcpy(&yv, gate + i, sizeof(Vec));
    gv = yv > 0 ? gv : Vec{};
    std::memcpy(out + i, &gv, sizeof(Vec));
  }
  for (; i < n; ++i) out[i] = gate[i] > 0 ? g[i] : 0.0f;
}

// One set of kernels per instruction set, picked once.
struct Kernels {
  void (*gemm)(const GemmArgs&);
  void (*column_sums)(int64_t, int64_t, const float*, int64_t, float*);
  void (*relu_backward)(int64_t, const float*, const float*, float*);
};

#define STRIKE_KERNEL_SET(suffix, attr, W)                                                                   \
  attr void gemm_##suffix(const GemmArgs& g) { gemm_width<W>(g); }                                         \
  attr void column_sums_##suffix(int64_t m, int64_t n, const float* a, int64_t lda, float* out) {           \
    column_sums_width<W>(m, n, a, lda, out);                                                                \
  }                                                                                                         \
  attr void relu_backward_##suffix(int64_t n, const float* g, const float* gate, float* out) {              \
    relu_backward_width<W>(n, g, gate, out);                                                                \
  }                                                                                                         \
  constexpr Kernels kKernels_##suffix{gemm_##suffix, column_sums_##suffix, relu_backward_##suffix};

STRIKE_KERNEL_SET(baseline, , 4)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
STRIKE_KERNEL_SET(avx2, __attribute__((target("avx2,fma"))), 8)
STRIKE_KERNEL_SET(avx512, __attribute__((target("avx512f"))), 16)

const Kernels& pick() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return kKernels_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kKernels_avx2;
  return kKernels_baseline;
}
#else
const Kernels& pick() { return kKernels_baseline; }
#endif

const Kernels& kernels() {
  static const Kernels& chosen = pick();
  return chosen;
}

}  // namespace

void gemm(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  kernels().gemm(g);
}

void column_sums(int64_t m, int64_t n, const float* a, int64_t lda, float* out) {
  if (n > 0) kernels().column_sums(m, n, a, lda, out);
}

void relu_backward(int64_t n, const float* g, const float* gate, float* out) {
  if (n > 0) kernels().relu_backward(n, g, gate, out);
}

}  // namespace strike::tasks::kernels
