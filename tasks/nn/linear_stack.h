// A stack of Linear layers with ReLU between them as one autograd node, for small models on the CPU.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace strike::tasks {

// y = L_n(relu(... relu(L_1(x)))), with L_i(h) = h W_i^T + b_i (nn.Linear's layout: W_i [out, in],
// b_i [out] or undefined), and a ReLU after the last layer too when `relu_last`.
//
// On the CPU in float32 with 2-D input this is one forward pass of small register-blocked matrix
// products with bias and ReLU fused in (tasks/nn/small_gemm.h), recorded as a single autograd node
// whose backward computes every layer's gradients with the same kernel: a handful of allocations and
// no per-op dispatch, where nn::Linear + relu records 3 nodes per layer and goes through BLAS
// (reference BLAS on Debian, slow at these sizes). Gradients reach the parameters through their
// usual gradient accumulators, so FlatParameters' views and gradient-sync hooks work unchanged.
// Anything else (other devices or dtypes, autocast on, forward-mode AD, larger inputs) runs the
// same computation with ATen ops.
torch::Tensor linear_stack(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                           const std::vector<torch::Tensor>& biases, bool relu_last = false);

// Whether linear_stack takes the fused path for these arguments.
bool linear_stack_is_fused(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                           const std::vector<torch::Tensor>& biases);

}  // namespace strike::tasks
