// `train`: wires the dataset, task, optimizer, scheduler and trainer together and writes summary.json.
#include "worker/train_command.h"

#include <sched.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "tasks/backbones/batch_norm.h"
#include "tasks/task_factory.h"
#include "worker/model_state.h"
#include "worker/trained_model.h"
#include "worker/verify_shards.h"

namespace strike::worker {

namespace fs = std::filesystem;

void add_train_options(CLI::App& app, TrainCommandOptions& o) {
  app.add_option("--data", o.data, "Dataset directory made by `strike data convert`")->required();
  app.add_option("--output", o.output, "Run directory (empty: runs/<task>-<backbone>-<date>-<time>)");
  app.add_option("--task", o.model.task, "Task (`strike list tasks`; auto: the data set's)");
  app.add_option("--backbone", o.model.backbone, "Backbone (`strike list backbones`; auto: the task's default)");
  app.add_option("--head", o.model.head, "Head (`strike list heads`)");
  app.add_option("--stem", o.model.stem, "ResNet stem: imagenet, small, auto (small below 64 px)")
      ->check(CLI::IsMember({"imagenet", "small", "auto"}));
  app.add_option("--label-smoothing", o.model.label_smoothing, "Cross-entropy label smoothing")->check(CLI::Range(0.0, 0.999));
  app.add_option("--dropout", o.model.dropout, "Dropout before the head")->check(CLI::Range(0.0, 0.999));
  app.add_option("--embedding-dim", o.model.embedding_dim, "image_embedding: embedding width")->check(CLI::PositiveNumber);
  app.add_option("--objective", o.model.objective,
                 "image_embedding: supervised (normalized softmax over class proxies) or simclr (two augmented views)")
      ->check(CLI::IsMember({"supervised", "simclr"}));
  app.add_option("--optimizer", o.optimizer.name, "Optimizer (`strike list optimizers`)");
  app.add_option("--lr", o.optimizer.lr, "Peak learning rate")->check(CLI::PositiveNumber);
  app.add_option("--weight-decay", o.optimizer.weight_decay, "Weight decay (not applied to biases and norms)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--momentum", o.optimizer.momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0));
  app.add_flag("--nesterov,!--no-nesterov", o.optimizer.nesterov, "SGD Nesterov momentum");
  app.add_option("--beta1", o.optimizer.beta1, "AdamW beta1")->check(CLI::Range(0.0, 1.0));
  app.add_option("--beta2", o.optimizer.beta2, "AdamW beta2")->check(CLI::Range(0.0, 1.0));
  app.add_option("--eps", o.optimizer.eps, "AdamW epsilon")->check(CLI::PositiveNumber);
  app.add_option("--schedule", o.scheduler.name, "Learning-rate schedule (`strike list schedulers`)");
  app.add_option("--warmup-steps", o.scheduler.warmup_steps, "Warm-up steps for cosine (-1: 5% of all steps)");
  app.add_option("--min-lr-ratio", o.scheduler.min_lr_ratio, "Final learning rate as a fraction of --lr (cosine)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--pct-start", o.scheduler.pct_start, "Fraction of steps rising (onecycle)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--step-size", o.scheduler.step_size_epochs, "Epochs between decays (step)")->check(CLI::PositiveNumber);
  app.add_option("--gamma", o.scheduler.gamma, "Decay factor (step)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--epochs", o.trainer.epochs, "Passes over the training split")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", o.batch_size, "Samples per step per rank")->check(CLI::PositiveNumber);
  app.add_option("--eval-batch-size", o.eval_batch_size, "Samples per step when evaluating")->check(CLI::PositiveNumber);
  app.add_flag("--augment,!--no-augment", o.augment, "Random crop (padding 4) and horizontal flip");
  app.add_option("--bucket-batches", o.bucket_batches,
                 "Text training: batches of similar length, from pools of this many global batches sorted by length (0: off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--accumulate", o.trainer.accumulate, "Micro-batches per optimizer step")->check(CLI::PositiveNumber);
  app.add_option("--grad-clip", o.trainer.grad_clip, "Max global gradient norm (0: off)")->check(CLI::NonNegativeNumber);
  app.add_option("--monitor", o.trainer.monitor, "Metric choosing best.h5 and early stopping (val_* or train_*)");
  app.add_option("--knn-k", o.trainer.knn_k,
                 "image_embedding: neighbours voting in the test (and val) kNN metrics, the train split as "
                 "neighbours; 0 = none")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--knn-every", o.trainer.knn_every,
                 "image_embedding: epochs between val kNN metrics (each costs a pass over train); 0 = test only; "
                 "1 allows --monitor val_knn_top1")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--patience", o.trainer.patience, "Epochs without improvement before stopping (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--keep-checkpoints", o.trainer.keep_checkpoints, "Epoch checkpoints kept (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-every", o.trainer.checkpoint_every,
                 "Optimizer steps between mid-epoch saves of last.h5, what a restart resumes from (0: epoch ends only)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-steps-per-epoch", o.trainer.max_steps_per_epoch, "Cap on steps per epoch (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "Seed for weights, data order and augmentation");
  app.add_option("--threads", o.threads, "Intra-op threads per rank (0: cores / ranks on the host)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", o.device, "cpu, cuda, or auto (cuda when a GPU is visible); rank i uses GPU local_rank")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--precision", o.trainer.precision,
                 "32, bf16-mixed (autocast to bf16) or 16-mixed (fp16 autocast + dynamic loss scaling, CUDA)")
      ->check(CLI::IsMember({"32", "bf16-mixed", "16-mixed"}));
  app.add_option("--ranks", o.launch.ranks, "Ranks (processes) in the job; `strike train` starts them")
      ->check(CLI::PositiveNumber);
  app.add_option("--hosts", o.launch.hosts, "Hosts and slots for mpirun, e.g. a:4,b:4 (empty: this host)");
  app.add_option("--hostfile", o.launch.hostfile, "mpirun hostfile (empty: none)");
  app.add_option("--launcher", o.launch.launcher, "auto (srun inside a Slurm allocation, else mpirun), mpirun, srun")
      ->check(CLI::IsMember({"auto", "mpirun", "srun"}));
  app.add_option("--max-restarts", o.launch.max_restarts,
                 "Restarts of a failed job from its newest complete checkpoint")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-requeues", o.launch.max_requeues,
                 "Inside Slurm: on USR1 (time limit, preemption) checkpoint and requeue the job, at most this often")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--stall-timeout", o.launch.stall_timeout,
                 "Seconds a rank may make no progress before the job is torn down")
      ->check(CLI::PositiveNumber);
  app.add_option("--heartbeat-timeout", o.launch.heartbeat_timeout,
                 "Seconds of silence after which a rank (or, for the ranks, the launcher) is lost")
      ->check(CLI::PositiveNumber);
  app.add_option("--coord-host", o.launch.coord_host,
                 "Address the ranks reach the launcher at (auto: 127.0.0.1 on one host, else this host's name)");
  app.add_option("--coord-port", o.launch.coord_port, "The launcher's coordination port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--bucket-mb", o.trainer.gradient_sync.bucket_mb, "Gradient all-reduce bucket size, MiB")
      ->check(CLI::PositiveNumber);
  app.add_option("--first-bucket-mb", o.trainer.gradient_sync.first_bucket_mb,
                 "First (last layers') bucket size, MiB: small so communication starts early")
      ->check(CLI::PositiveNumber);
  app.add_option("--grad-compression", o.trainer.gradient_sync.compression, "Gradients on the wire: none, bf16, fp16")
      ->check(CLI::IsMember({"none", "bf16", "fp16"}));
  app.add_flag("--sync-batchnorm,!--no-sync-batchnorm", o.sync_batchnorm,
               "Batch-norm statistics over all ranks' samples while training");
  app.add_flag("--check-sync,!--no-check-sync", o.trainer.check_sync,
               "After every step, verify by checksum that all ranks hold identical parameters");
  app.add_option("--resume", o.resume, "Resume: 'last' (newest complete checkpoint in --output) or a checkpoint path");
  app.add_option("--init-backbone", o.init_backbone,
                 "Start the backbone from this checkpoint's (e.g. an image_classification run's best.h5)");
  app.add_flag("--test,!--no-test", o.test, "Evaluate best.h5 on the test split at the end");
  app.add_flag("--verify-data,!--no-verify-data", o.verify_data, "Check shard checksums before reading");
  app.add_option("--progress", o.trainer.progress.mode, "Progress display: auto, bar, plain, none")
      ->check(CLI::IsMember({"auto", "bar", "plain", "none"}));
  app.add_option("--log-level", o.log_level, "Terminal log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

int choose_threads(int requested, int local_ranks) {
  if (requested > 0) return requested;
  cpu_set_t set;
  int cores = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, local_ranks));
}

torch::Device choose_device(const std::string& requested, int local_rank) {
  const bool have_cuda = torch::cuda::is_available();
  if (requested == "cpu" || (requested == "auto" && !have_cuda)) return torch::kCPU;
  if (!have_cuda) {
    throw UsageError("--device cuda: no GPU is visible to this process", "",
                     "check nvidia-smi and CUDA_VISIBLE_DEVICES, use a CUDA build of strike, or train with --device cpu");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count()));
}

std::string default_output(const TrainCommandOptions& o) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  tasks::ModelOptions model = o.model;
  try {
    model = tasks::resolve_model(model, core::Manifest::load(o.data));
  } catch (const std::exception&) {
    // Only the name suffers; loading the data set reports the problem itself.
  }
  return (fs::path("runs") / (model.task + "-" + model.backbone + "-" + stamp)).string();
}

namespace {

// Training shuffles, augments and drops the ragged end; evaluation sees every sample once, in order.
LoaderOptions loader_options(const TrainCommandOptions& o, bool training) {
  LoaderOptions l;
  l.batch_size = training ? o.batch_size : o.eval_batch_size;
  l.shuffle = training;
  l.drop_last = training;
  l.seed = o.seed;
  l.augment = training && o.augment;
  l.bucket_batches = o.bucket_batches;  // the loader buckets only when shuffling, i.e. training
  l.verify_checksums = false;  // verify_shards has checked them (--verify-data), shared out over the ranks
  return l;
}

nlohmann::json metrics_json(const std::string& prefix, const EpochMetrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m.values) j[prefix + k] = v;
  return j;
}

}  // namespace

int run_train(TrainCommandOptions o, const CLI::App& app, Communicator& comm, const std::atomic<bool>* stop,
              Reporter* reporter) {
  auto wall_start = std::chrono::steady_clock::now();
  if (o.output.empty()) o.output = default_output(o);
  RunDir run_dir(o.output);
  if (o.resume.empty() && fs::exists(run_dir.summary_file())) {
    throw UsageError("run directory already holds a finished run", o.output,
                     "choose another --output, or --resume last to continue it");
  }
  if (app.count("--ranks") > 0 && o.launch.ranks != comm.size()) {
    throw UsageError("--ranks " + std::to_string(o.launch.ranks) + " but this job has " + std::to_string(comm.size()) +
                         " rank(s)",
                     "", "start ranks with `strike train --ranks N`, or drop --ranks when calling mpirun yourself");
  }
  check_world_matches_slurm(comm.size());
  torch::Device device = choose_device(o.device, comm.local_rank());
  if (comm.rank() == 0) run_dir.create();
  comm.barrier();
  core::setup_logging({comm.rank(), run_dir.log_file(comm.rank()), o.log_level});
  int threads = choose_threads(o.threads, comm.local_size());
  torch::set_num_threads(threads);
  torch::manual_seed(o.seed);

  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  spdlog::debug("rank {} of {} on {} (local rank {} of {}), {} thread(s), {}", comm.rank(), comm.size(), host,
                comm.local_rank(), comm.local_size(), threads, device.str());
  std::string config = core::resolved_config(app);
  if (comm.rank() == 0) run_dir.write_config(config);
  spdlog::info("run directory {}", fs::absolute(o.output).string());

  // Each rank checksums its share of the shards the run reads, and the loaders trust them. Every 4 MiB
  // counts as work for the launcher: verifying a large dataset can take longer than --stall-timeout.
  if (o.verify_data) {
    const core::Manifest m = core::Manifest::load(o.data);
    std::vector<std::string> splits;
    for (const char* name : {"train", "val", "test"}) {
      if (m.has_split(name) && (o.test || std::string(name) != "test")) splits.push_back(name);
    }
    verify_shards(o.data, m, splits, comm, [&](int64_t done, int64_t mine) {
      if (reporter) reporter->set_position("verify MiB", 0, o.trainer.epochs, 0, done, mine);
    });
  }
  DataLoader train(o.data, "train", comm.rank(), comm.size(), loader_options(o, true));
  const core::Manifest& manifest = train.manifest();
  std::unique_ptr<DataLoader> val, test;
  if (manifest.has_split("val")) {
    val = std::make_unique<DataLoader>(o.data, "val", comm.rank(), comm.size(), loader_options(o, false));
  }
  if (o.test && manifest.has_split("test")) {
    test = std::make_unique<DataLoader>(o.data, "test", comm.rank(), comm.size(), loader_options(o, false));
  }
  if (!val && o.trainer.monitor.rfind("val_", 0) == 0) o.trainer.monitor = "train_loss";

  o.model = tasks::resolve_model(o.model, manifest);
  auto task = tasks::make_task(o.model, manifest);
  if (!o.init_backbone.empty() && o.resume.empty()) {
    const int64_t n = load_prefixed(task->model(), core::load_checkpoint(o.init_backbone).model, "backbone.", o.init_backbone);
    spdlog::info("backbone: {} tensors from {}", n, o.init_backbone);
  }
  task->model().to(device);
  if (o.sync_batchnorm && comm.size() > 1) {
    int layers = tasks::enable_sync_batchnorm(
        task->model(), [&comm](torch::Tensor& t) { comm.all_reduce_sum(t); }, comm.size());
    spdlog::info("synchronized batch norm in {} layers", layers);
  }
  tasks::FlatParameters params(task->model());
  auto optimizer = tasks::make_optimizer(o.optimizer, params);
  int64_t steps_per_epoch = train.steps_per_epoch();
  if (o.trainer.max_steps_per_epoch > 0) steps_per_epoch = std::min(steps_per_epoch, o.trainer.max_steps_per_epoch);
  int64_t optimizer_steps_per_epoch = (steps_per_epoch + o.trainer.accumulate - 1) / o.trainer.accumulate;
  tasks::Scheduler scheduler(o.scheduler, o.optimizer.lr, optimizer_steps_per_epoch * o.trainer.epochs,
                             optimizer_steps_per_epoch);
  spdlog::info("{} {} on {} ({} train samples, {} {} rank(s) x {} threads on {}, {} steps/epoch, batch {} per rank)",
               o.model.task, o.model.backbone, o.data, manifest.split("train").samples, comm.size(), comm.backend(),
               threads, device.str(), steps_per_epoch, o.batch_size);

  Trainer trainer(o.trainer, *task, params, *optimizer, scheduler, comm, run_dir, manifest, config, stop, device,
                  reporter);
  // Embeddings are judged by their nearest train embeddings (test, and val with --knn-every).
  std::unique_ptr<DataLoader> knn_reference;
  if (o.model.task == "image_embedding" && o.trainer.knn_k > 0 && (test || (val && o.trainer.knn_every > 0))) {
    knn_reference = std::make_unique<DataLoader>(o.data, "train", comm.rank(), comm.size(), loader_options(o, false));
    trainer.monitor_knn(*knn_reference);
  }
  // Checkpoints carry the tokenizer, so `strike predict` on raw text needs no dataset directory.
  if (comm.rank() == 0) trainer.attach_assets(model_assets(o.data, manifest));
  if (!o.resume.empty()) {
    std::string path = o.resume == "last" ? run_dir.newest_complete_checkpoint() : o.resume;
    if (path.empty()) {
      throw UsageError("--resume last: no complete checkpoint in " + run_dir.checkpoint_dir(), o.output,
                       "start without --resume");
    }
    trainer.resume(path);
  }
  trainer.fit(train, val.get());

  nlohmann::json metrics = nlohmann::json::object();
  for (auto it = trainer.state().metric_rows.rbegin(); it != trainer.state().metric_rows.rend(); ++it) {
    if ((*it)["split"] != "val") continue;
    auto names = task->metric_names();
    names.insert(names.end(), kKnnMetrics.begin(), kKnnMetrics.end());
    for (const auto& name : names) {
      if (it->contains(name)) metrics["val_" + name] = (*it)[name];
    }
    break;
  }
  std::string best = run_dir.best_checkpoint();
  if (test) {
    trainer.load_weights(fs::exists(best) ? best : run_dir.last_checkpoint());
    EpochMetrics test_metrics = trainer.evaluate(*test, "test");
    trainer.record("test", test_metrics);
    metrics.update(metrics_json("test_", test_metrics));
    std::string line = "test:";
    auto shown = task->headline_metrics();
    shown.insert(shown.end(), kKnnMetrics.begin(), kKnnMetrics.end());
    for (const auto& k : shown) {
      if (test_metrics.values.count(k)) line += fmt::format(" {} {:.4f}", k, test_metrics.values.at(k));
    }
    if (test_metrics.values.count("macro_f1")) line += " (per class: summary.json)";
    spdlog::info("{} ({} samples, best checkpoint from epoch {})", line, test_metrics.samples, trainer.state().best_epoch);
  }
  if (comm.rank() == 0) {
    nlohmann::json summary = {
        {"task", o.model.task},
        {"backbone", o.model.backbone},
        {"dataset", fs::absolute(o.data).lexically_normal().string()},
        {"dataset_hash", manifest.hash()},
        {"world_size", comm.size()},
        {"backend", comm.backend()},
        {"device", device.str()},
        {"threads_per_rank", threads},
        {"epochs", trainer.state().epoch},
        {"steps", trainer.state().step},
        {"precision", o.trainer.precision},
        {"skipped_steps", trainer.skipped_steps()},
        {"batch_size", o.batch_size},
        {"samples_per_sec", trainer.samples_per_sec()},
        {"train_seconds", trainer.state().train_seconds},
        {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count()},
        {"metrics", metrics},
        {"monitor", o.trainer.monitor},
        {"best_value", trainer.state().best},
        {"best_epoch", trainer.state().best_epoch},
        {"best_checkpoint", fs::exists(best) ? fs::absolute(best).string() : ""},
        {"last_checkpoint", fs::absolute(run_dir.last_checkpoint()).string()},
        {"seed", o.seed},
        {"config", fs::absolute(run_dir.config_file()).string()},
    };
    run_dir.write_summary(summary);
    spdlog::info("summary: {}", fs::absolute(run_dir.summary_file()).string());
  }
  return kExitOk;
}

}  // namespace strike::worker
