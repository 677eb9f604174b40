// strike-data: the `strike data` commands in a process without LibTorch; `strike data …` runs it.
#include "core/error.h"
#include "core/main_guard.h"
#include "dataset_tools/data_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"strike: strong deep-learning baselines, trained, evaluated and checkpointed in one command"};
  app.require_subcommand(1);
  strike::data::add_data_commands(app);
  // The commands run in CLI11 callbacks during parsing, so parsing is guarded too.
  return strike::core::guarded_main("strike", [&]() -> int {
    const int code = strike::core::parse_command_line(app, argc, argv);
    return code >= 0 ? code : strike::kExitOk;
  });
}
