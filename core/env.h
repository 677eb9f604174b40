// Every environment variable strike reads; the README lists the same set.
#pragma once

namespace strike::env {

// Path of the strike-worker executable (default: next to `strike`).
constexpr const char* kWorkerPath = "STRIKE_WORKER";
// Directory holding the Fashion-MNIST IDX files (default: Debian's /usr/share/datasets/fashion-mnist).
constexpr const char* kFashionMnistDir = "STRIKE_FASHION_MNIST_DIR";

// Returns the variable's value, or `fallback` when unset or empty.
const char* get(const char* name, const char* fallback);

}  // namespace strike::env
