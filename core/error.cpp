// Formatting of Error messages.
#include "core/error.h"

namespace strike {

namespace {
std::string compose(const std::string& what, const std::string& where, const std::string& hint) {
  std::string msg = where.empty() ? what : where + ": " + what;
  if (!hint.empty()) msg += " (" + hint + ")";
  return msg;
}
}  // namespace

Error::Error(const std::string& what, const std::string& where, const std::string& hint)
    : std::runtime_error(compose(what, where, hint)), where_(where), hint_(hint) {}

void require(bool condition, const std::string& what, const std::string& hint) {
  if (!condition) throw UsageError(what, "", hint);
}

}  // namespace strike
