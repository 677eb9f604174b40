// `strike`: the command users type; builds the command tree and dispatches.
#pragma once

namespace strike::launcher {

// Runs `strike` with the process's arguments; returns the exit code.
int run_strike(int argc, char** argv);

}  // namespace strike::launcher
