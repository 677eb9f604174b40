// The only place exceptions become exit codes: shared by every executable's main().
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace strike::core {

// Parses the command line; returns -1 to go on, or the exit code to return now
// (0 after --help or --version, 2 after a wrong flag, with CLI11's message on stderr).
int parse_command_line(CLI::App& app, int argc, char** argv);

// Runs `body`, turning strike::Error into exit 1, UsageError into 2, Interrupted into 130, and any
// other exception into 1 with an "internal error" message; `program` prefixes every message.
int guarded_main(const std::string& program, const std::function<int()>& body);

}  // namespace strike::core
