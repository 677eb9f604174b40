// LibTorch errors turned into strike errors before guarded_main maps them to an exit code.
#include "core/torch_main_guard.h"

#include "core/error.h"
#include "core/main_guard.h"

namespace strike::core {

int guarded_torch_main(const std::string& program, const std::function<int()>& body) {
  return guarded_main(program, [&]() -> int {
    try {
      return body();
    } catch (const c10::Error& e) {
      throw Error(std::string("in LibTorch: ") + e.what_without_backtrace());
    }
  });
}

}  // namespace strike::core
