// The strike command tree: data, train, eval, predict, embed, list, quickstart, slurm.
#include "launcher/app.h"

#include <csignal>
#include <filesystem>
#include <iostream>

#include "core/config.h"
#include "core/error.h"
#include "core/main_guard.h"
#include "core/torch_main_guard.h"
#include "dataset_tools/data_commands.h"
#include "launcher/job.h"
#include "launcher/launch.h"
#include "launcher/quickstart.h"
#include "launcher/spawn.h"
#include "slurm/slurm_commands.h"
#include "tasks/task_factory.h"
#include "worker/embed_command.h"
#include "worker/eval_command.h"
#include "worker/predict_command.h"
#include "worker/train_command.h"

namespace strike::launcher {

namespace {

namespace fs = std::filesystem;

// `strike train ARGS` runs `strike-worker train ARGS` on every rank: flags are checked here first
// so mistakes are reported before any process starts, and --help shows every default.
int launch_training(int argc, char** argv, const worker::TrainCommandOptions& options) {
  int first = 1;
  while (first < argc && std::string(argv[first]) != "train") ++first;
  std::vector<std::string> args{"train"};
  for (int i = first + 1; i < argc; ++i) args.emplace_back(argv[i]);
  return run_job(options, args);
}

}  // namespace

int run_strike(int argc, char** argv) {
  CLI::App app{"strike: strong deep-learning baselines, trained, evaluated and checkpointed in one command"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "strike 0.1.0");

  data::add_data_commands(app);
  const std::vector<std::string> train_args = slurm::split_train_args(argc, argv);
  slurm::add_slurm_commands(app, train_args);

  worker::TrainCommandOptions train_options;
  CLI::App* train = core::add_configurable_subcommand(app, "train", "Train a baseline on a converted dataset");
  worker::add_train_options(*train, train_options);

  worker::EvalOptions eval_options;
  CLI::App* eval = core::add_configurable_subcommand(app, "eval", "Evaluate a checkpoint on a dataset split");
  worker::add_eval_options(*eval, eval_options);

  worker::PredictOptions predict_options;
  CLI::App* predict = core::add_configurable_subcommand(app, "predict", "Predict labels, probabilities or logits");
  worker::add_predict_options(*predict, predict_options);

  worker::EmbedOptions embed_options;
  CLI::App* embed = core::add_configurable_subcommand(app, "embed", "Write an image_embedding model's embeddings to HDF5");
  worker::add_embed_options(*embed, embed_options);

  std::string list_what;
  CLI::App* list = app.add_subcommand("list", "List registered components");
  list->add_option("what", list_what, "backbones, heads, optimizers, schedulers or tasks")->required();

  QuickstartOptions quickstart_options;
  CLI::App* quickstart = core::add_configurable_subcommand(app, "quickstart",
    "Convert Fashion-MNIST, train, evaluate and predict");
  add_quickstart_options(*quickstart, quickstart_options);

  // `strike data` runs in CLI11 callbacks during parsing, so parsing is guarded too.
  return core::guarded_torch_main("strike", [&]() -> int {
    if (int code = core::parse_command_line(app, argc, argv); code >= 0) return code;
    if (train->parsed()) return launch_training(argc, argv, train_options);
    if (eval->parsed()) return worker::run_eval(eval_options);
    if (predict->parsed()) return worker::run_predict(predict_options);
    if (embed->parsed()) return worker::run_embed(embed_options);
    if (list->parsed()) {
      tasks::print_registry(list_what, std::cout);
      return kExitOk;
    }
    if (quickstart->parsed()) return run_quickstart(quickstart_options);
    return kExitOk;  // a `data` or `slurm` command, already run by its callback
  });
}

}  // namespace strike::launcher
