// linear_stack: the fused CPU forward, its single backward node, and the ATen fallback.
#include "tasks/nn/linear_stack.h"

#include "core/compat.h"
#include "core/error.h"
#include "tasks/nn/small_gemm.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

#include <algorithm>
#include <string>

namespace strike::tasks {

namespace {

using torch::autograd::Node;
using torch::autograd::variable_list;

// Above this many multiply-adds in one layer an optimized, possibly multi-threaded BLAS is the
// better choice where LibTorch has one; the fused path is for the small shapes where per-op
// overhead and reference BLAS dominate.
constexpr int64_t kMaxFusedMacs = int64_t{1} << 22;

bool is_cpu_float(const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == torch::kFloat32; }

const float* data(const torch::Tensor& t) { return t.data_ptr<float>(); }
float* mutable_data(torch::Tensor& t) { return t.data_ptr<float>(); }

torch::Tensor empty_like_rows(int64_t rows, int64_t cols, const torch::Tensor& like) {
  return torch::empty({rows, cols}, like.options().requires_grad(false));
}

// C[m, n] = A[m, k] · W^T + bias, relu: the forward of one layer (W is [n, k], row-major).
void forward_layer(const torch::Tensor& a, const torch::Tensor& w, const torch::Tensor& bias, bool relu,
                   torch::Tensor& out) {
  kernels::GemmArgs g;
  g.m = a.size(0);
  g.n = w.size(0);
  g.k = w.size(1);
  g.a = data(a);
  g.a_row = g.k;
  g.b = data(w);  // B(k, j) = W[j, k]
  g.b_row = 1;
  g.b_col = g.k;
  g.c = mutable_data(out);
  g.ldc = g.n;
  g.bias = bias.defined() ? data(bias) : nullptr;
  g.relu = relu;
  kernels::gemm(g);
}

// The backward of the whole stack. Holds the input, every layer's output (post-ReLU) and the
// weights; hands out gradients in the order x, W_1, b_1, W_2, b_2, ...
class LinearStackBackward : public Node {
 public:
  LinearStackBackward(torch::Tensor x, std::vector<torch::Tensor> weights, std::vector<torch::Tensor> biases,
                      bool relu_last)
      : x_(std::move(x)), weights_(std::move(weights)), biases_(std::move(biases)), relu_last_(relu_last) {
    x_version_ = x_._version();
    for (const auto& w : weights_) weight_versions_.push_back(w._version());
  }

  std::string name() const override { return "LinearStackBackward"; }

  void release_variables() override {
    x_.reset();
    weights_.clear();
    biases_.clear();
    outputs_.clear();
  }

  // Layer outputs after ReLU; the last one is an alias of the returned tensor (no reference cycle).
  std::vector<torch::Tensor>& outputs() { return outputs_; }

  variable_list apply(variable_list&& grads) override {
    if (!x_.defined() && weights_.empty()) {
      throw Error("linear_stack: backward ran twice through the same graph", "",
                  "pass retain_graph=true to the first backward");
    }
    if (torch::GradMode::is_enabled()) {
      throw Error("linear_stack: double backward (create_graph) is not supported by the fused path");
    }
    check_versions();
    const size_t layers = weights_.size();
    variable_list out(1 + 2 * layers);
    if (grads.empty() || !grads[0].defined()) return out;
    torch::Tensor g = grads[0].contiguous();
    const int64_t batch = g.size(0);
    // Gradient with respect to layer l's output, after the ReLU mask when layer l has one.
    if (relu_last_) {
      torch::Tensor masked = empty_like_rows(batch, g.size(1), g);
      kernels::relu_backward(g.numel(), data(g), data(outputs_.back()), mutable_data(masked));
      g = std::move(masked);
    }
    for (size_t l = layers; l-- > 0;) {
      const torch::Tensor& w = weights_[l];
      const int64_t n_out = w.size(0), n_in = w.size(1);
      const torch::Tensor& input = l == 0 ? x_ : outputs_[l - 1];
      if (task_should_compute_output(1 + 2 * l)) {
        // dW = g^T · input: [out, batch] · [batch, in].
        torch::Tensor dw = empty_like_rows(n_out, n_in, g);
        kernels::GemmArgs a;
        a.m = n_out;
        a.n = n_in;
        a.k = batch;
        a.a = data(g);
        a.a_row = 1;
        a.a_col = n_out;
        a.b = data(input);
        a.b_row = n_in;
        a.c = mutable_data(dw);
        a.ldc = n_in;
        kernels::gemm(a);
        out[1 + 2 * l] = std::move(dw);
      }
      if (biases_[l].defined() && task_should_compute_output(2 + 2 * l)) {
        torch::Tensor db = torch::empty({n_out}, g.options());
        kernels::column_sums(batch, n_out, data(g), n_out, mutable_data(db));
        out[2 + 2 * l] = std::move(db);
      }
      const bool need_input_grad = l > 0 || task_should_compute_output(0);
      if (!need_input_grad) break;
      // d input = g · W: [batch, out] · [out, in], masked by the previous layer's ReLU.
      torch::Tensor dx = empty_like_rows(batch, n_in, g);
      kernels::GemmArgs a;
      a.m = batch;
      a.n = n_in;
      a.k = n_out;
      a.a = data(g);
      a.a_row = n_out;
      a.b = data(w);
      a.b_row = n_in;
      a.c = mutable_data(dx);
      a.ldc = n_in;
      if (l > 0) {
        a.gate = data(outputs_[l - 1]);
        a.ldg = n_in;
      }
      kernels::gemm(a);
      if (l == 0) {
        out[0] = std::move(dx);
      } else {
        g = std::move(dx);
      }
    }
    return out;
  }

 private:
  void check_versions() const {
    bool same = x_._version() == x_version_;
    for (size_t i = 0; i < weights_.size(); ++i) same = same && weights_[i]._version() == weight_versions_[i];
    if (!same) {
      throw Error("linear_stack: an input or weight was modified in place between forward and backward", "",
                  "step the optimizer after backward, and do not overwrite the batch before it");
    }
  }

  torch::Tensor x_;
  std::vector<torch::Tensor> weights_, biases_, outputs_;
  bool relu_last_;
  uint32_t x_version_ = 0;
  std::vector<uint32_t> weight_versions_;
};

torch::Tensor reference_stack(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                              const std::vector<torch::Tensor>& biases, bool relu_last) {
  torch::Tensor h = x;
  for (size_t l = 0; l < weights.size(); ++l) {
    h = torch::nn::functional::linear(h, weights[l], l < biases.size() ? biases[l] : torch::Tensor());
    if (l + 1 < weights.size() || relu_last) h = torch::relu(h);
  }
  return h;
}

}  // namespace

bool linear_stack_is_fused(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                           const std::vector<torch::Tensor>& biases) {
  if (weights.empty() || biases.size() != weights.size()) return false;
  if (!is_cpu_float(x) || x.dim() != 2 || compat::autocast_enabled(c10::DeviceType::CPU)) return false;
  if (x._fw_grad(0).defined()) return false;
  int64_t width = x.size(1);
  for (size_t l = 0; l < weights.size(); ++l) {
    const torch::Tensor& w = weights[l];
    const torch::Tensor& b = biases[l];
    if (!is_cpu_float(w) || w.dim() != 2 || w.size(1) != width || !w.is_contiguous()) return false;
    if (w._fw_grad(0).defined()) return false;
    if (b.defined() && (!is_cpu_float(b) || b.dim() != 1 || b.size(0) != w.size(0) || !b.is_contiguous() ||
                        b._fw_grad(0).defined())) {
      return false;
    }
    if (x.size(0) * w.size(0) * w.size(1) > kMaxFusedMacs) return false;
    width = w.size(0);
  }
  return true;
}

torch::Tensor linear_stack(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                           const std::vector<torch::Tensor>& biases, bool relu_last) {
  require(!weights.empty(), "linear_stack needs at least one layer");
  require(biases.empty() || biases.size() == weights.size(), "linear_stack needs one bias (or none) per layer");
  std::vector<torch::Tensor> bs = biases;
  bs.resize(weights.size());
  if (!linear_stack_is_fused(x, weights, bs)) return reference_stack(x, weights, bs, relu_last);

  const torch::Tensor input = x.contiguous();
  const int64_t batch = input.size(0);
  const size_t layers = weights.size();
  std::vector<torch::Tensor> outputs(layers);
  for (size_t l = 0; l < layers; ++l) {
    outputs[l] = empty_like_rows(batch, weights[l].size(0), input);
    forward_layer(l == 0 ? input : outputs[l - 1], weights[l], bs[l], l + 1 < layers || relu_last, outputs[l]);
  }
  torch::Tensor y = outputs.back();

  bool needs_grad = torch::GradMode::is_enabled() && input.requires_grad();
  for (size_t l = 0; l < layers && torch::GradMode::is_enabled(); ++l) {
    needs_grad = needs_grad || weights[l].requires_grad() || (bs[l].defined() && bs[l].requires_grad());
  }
  if (!needs_grad) return y;

  torch::autograd::edge_list edges;
  edges.reserve(1 + 2 * layers);
  edges.push_back(torch::autograd::impl::gradient_edge(input));
  for (size_t l = 0; l < layers; ++l) {
    edges.push_back(torch::autograd::impl::gradient_edge(weights[l]));
    edges.push_back(bs[l].defined() ? torch::autograd::impl::gradient_edge(bs[l]) : torch::autograd::Edge());
  }
  auto node = std::shared_ptr<LinearStackBackward>(
      new LinearStackBackward(input, weights, bs, relu_last), torch::autograd::deleteNode);
  node->set_next_edges(std::move(edges));
  torch::autograd::set_history(y, node);
  outputs.back() = y.detach();  // an alias without the grad_fn: the node must not own its own output
  node->outputs() = std::move(outputs);
  return y;
}

}  // namespace strike::tasks
