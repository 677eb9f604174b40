// The `strike data` command group: convert, inspect, verify.
#pragma once
#include <CLI/CLI.hpp>

namespace strike::data {

// Adds `data` with subcommands `convert`, `inspect DIR` and `verify DIR` to `parent`. The commands
// report failure by throwing strike::Error / UsageError (never exit()): `verify` prints each problem
// and throws Error("N problem(s) found ..."); on success it prints "OK".
void add_data_commands(CLI::App& parent);

}  // namespace strike::data
