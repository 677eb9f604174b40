// The cores a process may use, and a minimal parallel loop for decoding images on a few threads.
#pragma once
#include <cstdint>
#include <functional>

namespace strike::data {

// The cores this process may run on (its CPU affinity), at least 1.
int available_cores();

// Threads worth using for image decoding: the cores available, at most 4 (I/O and the HDF5
// writer, which stays single-threaded, bound the gain beyond that).
int decode_threads();

// Runs fn(i) for every i in [0, n) on up to `threads` threads. If any call throws, the remaining
// work is skipped and the exception of the lowest failing i is rethrown, so errors are reproducible.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn);

}  // namespace strike::data
