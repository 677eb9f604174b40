// Exit-code mapping and error printing for main().
#include "core/main_guard.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "core/error.h"

namespace strike::core {

int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return -1;
}

int guarded_main(const std::string& program, const std::function<int()>& body) {
  auto report = [&](const std::string& kind, const std::string& message) {
    std::fflush(stdout);
    // One write: several ranks share the terminal, and pieces would interleave.
    std::cerr << (program + ": " + kind + message + "\n") << std::flush;
    spdlog::default_logger()->flush();
  };
  try {
    return body();
  } catch (const Interrupted& e) {
    report("", e.what());
    return kExitInterrupted;
  } catch (const UsageError& e) {
    report("error: ", e.what());
    return kExitUsage;
  } catch (const Error& e) {
    report("error: ", e.what());
    return kExitError;
  } catch (const std::exception& e) {
    report("internal error: ", std::string(e.what()) + " (please report this with the command line)");
    return kExitError;
  }
}

}  // namespace strike::core
