// A single-threaded float32 matrix product for the small shapes of tabular models, with a fused
// bias / ReLU / ReLU-mask epilogue.
#pragma once
#include <cstdint>

namespace strike::tasks::kernels {

// C = A · B (+ C when `accumulate`) (+ bias) then, in this order, ReLU and the gate, where
//   A(i, k) = a[i * a_row + k * a_col]   i < m, k < k
//   B(k, j) = b[k * b_row + j * b_col]   j < n
//   C(i, j) = c[i * ldc + j]             (C's rows are contiguous)
// bias: n floats added to every row (null: none); relu: C = max(C, 0);
// gate: C(i, j) = 0 wherever gate[i * ldg + j] <= 0 (null: none), the backward of a ReLU whose output
// was `gate`. Any strides work (so transposes are free); B is packed once per call into 16-wide
// panels. For the shapes of a small MLP (up to a few hundred per side) this runs far ahead of a
// reference (netlib) BLAS and is not meant to replace an optimized one on large matrices.
struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t a_row = 0, a_col = 1;
  const float* b = nullptr;
  int64_t b_row = 0, b_col = 1;
  float* c = nullptr;
  int64_t ldc = 0;
  bool accumulate = false;
  const float* bias = nullptr;
  bool relu = false;
  const float* gate = nullptr;
  int64_t ldg = 0;
};

void gemm(const GemmArgs& args);

// out[j] = sum over i < m of a[i * lda + j], for j < n: the bias gradient of a linear layer.
void column_sums(int64_t m, int64_t n, const float* a, int64_t lda, float* out);

// out[i] = gate[i] > 0 ? g[i] : 0 for i < n: the backward of a ReLU whose output was `gate`
// (out may be g itself).
void relu_backward(int64_t n, const float* g, const float* gate, float* out);

}  // namespace strike::tasks::kernels
