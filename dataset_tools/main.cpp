// strike-data: the `strike data` commands in a process without LibTorch; `strike data …` runs it.
#include <string>

#include "core/error.h"
#include "core/main_guard.h"
#include "core/malloc_tuning.h"
#include "dataset_tools/data_commands.h"

int main(int argc, char** argv) {
  strike::core::return_freed_batches_to_the_kernel();
  CLI::App app{"strike: strong deep-learning baselines, trained, evaluated and checkpointed in one command"};
  app.require_subcommand(1);
  strike::data::add_data_commands(app);
  // The commands run in CLI11 callbacks during parsing, so parsing is guarded too.
  return strike::core::guarded_main("strike", [&]() -> int {
    // Run directly (not through the `strike` front) with another command, say which program has it.
    if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "data") {
      throw strike::UsageError("strike-data runs only `data …` commands, not '" + std::string(argv[1]) + "'", "",
                               "run `strike " + std::string(argv[1]) + " …`: the strike front picks the program");
    }
    const int code = strike::core::parse_command_line(app, argc, argv);
    return code >= 0 ? code : strike::kExitOk;
  });
}
