// A training job under supervision: coordination server, the ranks, one progress view, fault handling and restarts.
#pragma once
#include <string>
#include <vector>

#include "launcher/launch.h"
#include "worker/train_command.h"

namespace strike::launcher {

// Runs `strike-worker train <worker_args>` on every rank as `options` asks, watching the ranks
// through the coordination server; restarts a failed job from its newest complete checkpoint up to
// --max-restarts times. Returns the exit code for `strike train` (130 when interrupted).
int run_job(const worker::TrainCommandOptions& options, std::vector<std::string> worker_args);

// `args` without any `--name VALUE` / `--name=VALUE`, then with `--name value` appended.
std::vector<std::string> with_option(std::vector<std::string> args, const std::string& name, const std::string& value);

// The address the ranks are told to reach the launcher at, for --coord-host (auto: 127.0.0.1 when
// every rank runs on this host, else this host's name).
std::string coord_host_for_ranks(const worker::LaunchOptions& launch, const LaunchContext& context);

}  // namespace strike::launcher
