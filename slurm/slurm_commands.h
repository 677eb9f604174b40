// The `strike slurm` command group: script, submit, status, cancel, logs.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strike::slurm {

// Adds `slurm` and its subcommands to `parent`; each runs from its CLI11 callback and reports
// failure by throwing strike::Error / UsageError. `train_args` are the flags for `strike train`
// that followed `--` on the command line (see split_train_args); it must outlive parsing.
void add_slurm_commands(CLI::App& parent, const std::vector<std::string>& train_args);

// `strike slurm script|submit [options] -- TRAIN FLAGS`: removes `--` and what follows from
// argv (for `strike slurm …` only) and returns it; argc shrinks to what CLI11 should parse.
std::vector<std::string> split_train_args(int& argc, char** argv);

}  // namespace strike::slurm
