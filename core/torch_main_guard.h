// guarded_main for the executables that run LibTorch: its errors are reported without C++ backtraces.
#pragma once
#include <functional>
#include <string>

namespace strike::core {

// guarded_main (core/main_guard.h), with LibTorch's c10::Error reported as an error "in LibTorch"
// with its message alone: its what() carries a C++ backtrace that tells a user nothing.
int guarded_torch_main(const std::string& program, const std::function<int()>& body);

}  // namespace strike::core
