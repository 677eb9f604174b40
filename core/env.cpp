// Reading of STRIKE_* environment variables.
#include "core/env.h"

#include <cstdlib>

namespace strike::env {

const char* get(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return (value && *value) ? value : fallback;
}

}  // namespace strike::env
