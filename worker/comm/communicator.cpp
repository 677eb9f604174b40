// The local (single-rank) Communicator.
#include "worker/comm/communicator.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace strike::worker {

void LocalCommunicator::abort(int code, const std::string& reason) {
  spdlog::error("aborting: {}", reason);
  spdlog::default_logger()->flush();
  std::_Exit(code);
}

}  // namespace strike::worker
