// The Optimizer interface, its options, the optimizer registry and gradient clipping.
#pragma once
#include "core/checkpoint.h"
#include "tasks/optim/flat_parameters.h"
#include "tasks/registry.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

namespace strike::tasks {

// CLI flags and YAML keys map onto these fields one to one.
struct OptimizerOptions {
  std::string name = "adamw";  // optimizer registry name: sgd, adamw
  double lr = 1e-3;            // peak learning rate (the scheduler scales it per step)
  // Weight decay, never applied to 1-D parameters (biases, norm weights). 1e-2 is PyTorch's AdamW
  // default, where decay is decoupled (p *= 1 - lr * wd); for sgd it is L2 added to the gradient,
  // where 1e-4 to 5e-4 is usual.
  double weight_decay = 1e-2;
  double momentum = 0.9;       // sgd momentum (0: plain SGD); dampening is always 0
  bool nesterov = false;       // sgd Nesterov momentum
  double beta1 = 0.9;          // adamw first-moment decay
  double beta2 = 0.999;        // adamw second-moment decay
  double eps = 1e-8;           // adamw denominator epsilon
};

// Elements per thread below which the CPU update loops of the optimizers run on one thread.
constexpr int64_t kCpuGrain = int64_t{1} << 16;

// One fused update of the whole flat parameter buffer per step (no per-parameter loop). On the CPU
// the update is a single pass over raw float32 buffers (tasks/optim/update_kernels.h); on other
// devices a few tensor ops over the flat buffers.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // Applies one update with learning rate `lr` using FlatParameters::grads().
  virtual void step(double lr) = 0;
  // State tensors for the checkpoint, including "step" (int64 [1]).
  virtual core::NamedTensors state() const = 0;
  // Restores state(); throws naming what does not match (another optimizer or model).
  virtual void load_state(const core::NamedTensors& state) = 0;
  // Kind, step count and hyper-parameters, for the checkpoint's optimizer_meta.
  virtual nlohmann::json meta() const = 0;
  // Updates applied so far.
  virtual int64_t steps() const = 0;
};

using OptimizerFactory = std::function<std::unique_ptr<Optimizer>(const OptimizerOptions&, FlatParameters&)>;

// sgd, adamw.
const Registry<OptimizerFactory>& optimizers();

// optimizers().create(options.name, options, params).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, FlatParameters& params);

// Scales the flat gradient so its global L2 norm is at most max_norm (PyTorch's clip_grad_norm_,
// eps 1e-6); returns the norm before clipping.
double clip_grad_norm(FlatParameters& params, double max_norm);

}  // namespace strike::tasks
