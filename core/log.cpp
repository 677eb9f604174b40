// spdlog set-up for terminal and per-rank log files.
#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/error.h"

namespace strike::core {

void setup_logging(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  if (options.rank == 0) {
    auto term = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    term->set_level(spdlog::level::from_str(options.level));
    term->set_pattern("%^[%l]%$ %v");
    sinks.push_back(term);
  }
  if (!options.file.empty()) {
    std::filesystem::create_directories(std::filesystem::path(options.file).parent_path());
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, false);
      file->set_level(spdlog::level::debug);
      file->set_pattern("%Y-%m-%d %H:%M:%S.%e [rank " + std::to_string(options.rank) + "] [%l] %v");
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      throw Error(std::string("cannot open log file: ") + e.what(), options.file,
                  "check that the run directory is writable");
    }
  }
  auto logger = std::make_shared<spdlog::logger>("strike", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace strike::core
