// Appending timestamped JSON lines to a job's events.jsonl.
#include "launcher/coord/event_log.h"

#include <ctime>

#include "core/error.h"

namespace strike::launcher {

namespace {

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char with_millis[48];
  std::snprintf(with_millis, sizeof with_millis, "%s.%03lldZ", text, static_cast<long long>(millis));
  return with_millis;
}

}  // namespace

EventLog::EventLog(const std::string& path)
    : path_(path), out_(path, std::ios::app), start_(std::chrono::steady_clock::now()) {
  if (!out_) throw Error("cannot open the job's event log for writing", path, "check the run directory's permissions");
}

void EventLog::write(const std::string& event, nlohmann::json fields) {
  nlohmann::json line = {{"time", utc_now()},
                         {"elapsed", std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()},
                         {"event", event}};
  for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  // Texts from ranks may hold any bytes; a bad one is replaced rather than losing the line.
  out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n' << std::flush;
}

}  // namespace strike::launcher
