// The training loop: epochs of steps, validation, checkpoints, early stopping, exact metric reduction.
#include "worker/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <mutex>

#include "core/checksum.h"
#include "core/error.h"
#include "core/fs.h"
#include "worker/model_state.h"

namespace strike::worker {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Points `link` at the finished file `target` atomically; a hard link costs nothing, a copy is the fallback.
void publish_as(const std::string& target, const std::string& link) {
  std::string tmp = core::temporary_name(link);
  std::error_code ec;
  fs::create_hard_link(target, tmp, ec);
  if (ec) fs::copy_file(target, tmp, fs::copy_options::overwrite_existing);
  core::commit_file(tmp, link);
}

nlohmann::json sums_to_json(const tasks::MetricSums& sums) { return {{"sums", sums.sums}, {"count", sums.count}}; }

tasks::MetricSums sums_from_json(const nlohmann::json& j) {
  tasks::MetricSums sums;
  if (j.is_null()) return sums;
  sums.sums = j.value("sums", std::map<std::string, double>{});
  sums.count = j.value("count", 0.0);
  return sums;
}

}  // namespace

nlohmann::json TrainerState::to_json() const {
  return {{"epoch", epoch},
          {"step", step},
          {"best", best},
          {"best_epoch", best_epoch},
          {"best_loss", best_loss},
          {"epochs_without_improvement", epochs_without_improvement},
          {"train_seconds", train_seconds},
          {"train_samples", train_samples},
          {"metric_rows", metric_rows},
          {"epoch_step", epoch_step},
          {"epoch_sums", epoch_sums},
          {"epoch_seconds", epoch_seconds},
          {"loss_scaler", loss_scaler}};
}

TrainerState TrainerState::from_json(const nlohmann::json& j) {
  TrainerState s;
  s.epoch = j.at("epoch").get<int64_t>();
  s.step = j.at("step").get<int64_t>();
  // JSON has no infinity: a run interrupted before its first epoch ended stores `best` as null.
  s.best = j.at("best").is_number() ? j.at("best").get<double>() : 0.0;
  s.best_epoch = j.at("best_epoch").get<int64_t>();
  const nlohmann::json best_loss = j.value("best_loss", nlohmann::json());
  s.best_loss = best_loss.is_number() ? best_loss.get<double>() : std::numeric_limits<double>::infinity();
  s.epochs_without_improvement = j.at("epochs_without_improvement").get<int64_t>();
  s.train_seconds = j.at("train_seconds").get<double>();
  s.train_samples = j.at("train_samples").get<int64_t>();
  s.metric_rows = j.at("metric_rows").get<std::vector<nlohmann::json>>();
  s.epoch_step = j.value("epoch_step", int64_t{0});
  s.epoch_sums = j.value("epoch_sums", nlohmann::json());
  s.epoch_seconds = j.value("epoch_seconds", 0.0);
  s.loss_scaler = j.value("loss_scaler", nlohmann::json());
  return s;
}

Trainer::Trainer(TrainerOptions options, tasks::Task& task, tasks::FlatParameters& params, tasks::Optimizer& optimizer,
                 const tasks::Scheduler& scheduler, Communicator& comm, RunDir run_dir, const core::Manifest& manifest,
                 std::string config_yaml, const std::atomic<bool>* stop, torch::Device device,
                 Reporter* reporter)
    : options_(std::move(options)),
      task_(task),
      params_(params),
      optimizer_(optimizer),
      scheduler_(scheduler),
      comm_(comm),
      run_dir_(std::move(run_dir)),
      manifest_(manifest),
      config_yaml_(std::move(config_yaml)),
      stop_(stop),
      device_(device),
      reporter_(reporter),
      // A launcher draws one view of the whole job from every rank's reports.
      progress_(options_.progress, comm.rank() == 0 && reporter == nullptr),
      gradient_sync_(params, comm, options_.gradient_sync),
      precision_(tasks::parse_precision(options_.precision)),
      scaler_(tasks::needs_loss_scaling(precision_)) {
  tasks::check_precision_supported(precision_, device_.type());
  if (comm_.size() > 1) task_.set_peers(&comm_);
  require(options_.epochs >= 1, "--epochs must be at least 1");
  require(options_.accumulate >= 1, "--accumulate must be at least 1");
  require(options_.grad_clip >= 0, "--grad-clip must be >= 0");
  require(options_.checkpoint_every >= 0, "--checkpoint-every must be >= 0 (0: only at the end of each epoch)");
  require(options_.knn_k >= 0, "--knn-k must be >= 0 (0: no kNN metrics)");
  require(options_.knn_every >= 0, "--knn-every must be >= 0 (0: kNN metrics on the test split only)");
  std::string metric = options_.monitor.substr(options_.monitor.find('_') + 1);
  auto names = task_.metric_names();
  if (val_knn_possible()) names.insert(names.end(), kKnnMetrics.begin(), kKnnMetrics.end());
  bool known = options_.monitor.find('_') != std::string::npos &&
               (options_.monitor.rfind("val_", 0) == 0 || options_.monitor.rfind("train_", 0) == 0) &&
               std::find(names.begin(), names.end(), metric) != names.end();
  std::string choices;
  for (const auto& n : names) choices += (choices.empty() ? "" : ", ") + std::string("val_") + n;
  if (task_.name() == "image_embedding" && !val_knn_possible()) choices += " (val_knn_top1 with --knn-every 1)";
  require(known, "unknown --monitor '" + options_.monitor + "'", "choose one of " + choices + " (or train_*)");
  state_.best = initial_best();
}

bool Trainer::val_knn_possible() const {
  return task_.name() == "image_embedding" && options_.knn_k > 0 && options_.knn_every == 1;
}

void Trainer::monitor_knn(DataLoader& reference) {
  if (options_.knn_k > 0) {
    knn_ = std::make_unique<KnnMonitor>(reference, options_.knn_k, static_cast<int64_t>(manifest_.class_names.size()));
  }
}

double Trainer::initial_best() const {
  std::string metric = options_.monitor.substr(options_.monitor.find('_') + 1);
  return task_.higher_is_better(metric) ? -std::numeric_limits<double>::infinity()
                                        : std::numeric_limits<double>::infinity();
}

double Trainer::samples_per_sec() const {
  return state_.train_seconds > 0 ? static_cast<double>(state_.train_samples) * comm_.size() / state_.train_seconds : 0;
}

bool Trainer::improved(double value, double loss) const {
  std::string metric = options_.monitor.substr(options_.monitor.find('_') + 1);
  if (task_.higher_is_better(metric) ? value > state_.best : value < state_.best) return true;
  // Small validation sets tie often (34 penguins: many epochs at accuracy 1.0); the same split's lower loss
  // breaks a tie, so best.h5 is not merely the first epoch that reached the top.
  return value == state_.best && loss < state_.best_loss;
}

void Trainer::fit(DataLoader& train, DataLoader* val) {
  if (options_.monitor.rfind("val_", 0) == 0 && val == nullptr) {
    throw UsageError("--monitor " + options_.monitor + " needs a validation split, and the dataset has none", "",
                     "use --monitor train_loss, or convert with --val-fraction > 0");
  }
  const std::string metric = options_.monitor.substr(options_.monitor.find('_') + 1);
  if (std::find(kKnnMetrics.begin(), kKnnMetrics.end(), metric) != kKnnMetrics.end()) {
    require(knn_ != nullptr, "--monitor " + options_.monitor + " needs the train split as kNN neighbours", "this is a bug");
  }
  int64_t steps = train.steps_per_epoch();
  if (options_.max_steps_per_epoch > 0) steps = std::min(steps, options_.max_steps_per_epoch);
  require(steps > 0, "the training split has fewer samples than one global batch (--batch-size x ranks)",
          "lower --batch-size or use fewer ranks");
  // Ranks start from rank 0's weights (seeded alike anyway; a resumed run loaded the same file).
  broadcast_model();
  while (state_.epoch < options_.epochs) {
    EpochMetrics train_metrics = train_epoch(train);
    int64_t epoch = state_.epoch;  // train_epoch advanced it
    record("train", train_metrics);
    std::map<std::string, double> monitored;
    for (const auto& [k, v] : train_metrics.values) monitored["train_" + k] = v;
    std::string line = "epoch " + std::to_string(epoch) + "/" + std::to_string(options_.epochs) + ": train loss " +
                       fmt::format("{:.4f}", train_metrics.values["loss"]);
    if (val) {
      EpochMetrics val_metrics = evaluate(*val, "val");
      record("val", val_metrics);
      for (const auto& [k, v] : val_metrics.values) monitored["val_" + k] = v;
      auto shown = task_.headline_metrics();
      shown.push_back("knn_top1");
      for (const auto& k : shown) {
        if (val_metrics.values.count(k)) line += fmt::format(", val {} {:.4f}", k, val_metrics.values.at(k));
      }
    }
    double value = monitored.at(options_.monitor);
    const std::string split = options_.monitor.substr(0, options_.monitor.find('_'));
    double loss = monitored.count(split + "_loss") ? monitored.at(split + "_loss") : value;
    bool is_best = improved(value, loss);
    if (is_best) {
      state_.best = value;
      state_.best_loss = loss;
      state_.best_epoch = epoch;
      state_.epochs_without_improvement = 0;
    } else {
      ++state_.epochs_without_improvement;
    }
    line += fmt::format(" ({:.0f} samples/s{})", samples_per_sec(), is_best ? ", best so far" : "");
    spdlog::info(line);
    save_checkpoints(is_best);
    if (options_.patience > 0 && state_.epochs_without_improvement >= options_.patience) {
      spdlog::info("early stopping: {} has not improved for {} epochs (best {:.4f} at epoch {})", options_.monitor,
                   options_.patience, state_.best, state_.best_epoch);
      break;
    }
  }
}

EpochMetrics Trainer::train_epoch(DataLoader& loader) {
  auto& model = task_.model();
  model.train();
  loader.start_epoch(state_.epoch);
  int64_t steps = loader.steps_per_epoch();
  if (options_.max_steps_per_epoch > 0) steps = std::min(steps, options_.max_steps_per_epoch);
  progress_.begin("train", state_.epoch + 1, options_.epochs, steps);

  // A resumed epoch skips the batches it already trained on: the order is a pure function of
  // (seed, epoch, rank, world size), so skipping them lands exactly where the run stopped.
  Batch batch;
  for (int64_t i = 0; i < state_.epoch_step; ++i) {
    if (!loader.next(batch)) throw Error("the loader ended before the resumed position", "", "the dataset changed?");
  }
  tasks::MetricSums sums = sums_from_json(state_.epoch_sums);
  double seconds = state_.epoch_seconds;
  auto start = Clock::now();
  double seconds_before = seconds;
  params_.zero_grad();
  for (int64_t step = state_.epoch_step; step < steps; ++step) {
    if (!loader.next(batch)) break;
    batch.move_to(device_);
    // Only the last micro-step of an accumulation communicates.
    const bool boundary = (step + 1) % options_.accumulate == 0 || step + 1 == steps;
    gradient_sync_.prepare(boundary);
    torch::Tensor output, loss;
    {
      tasks::AutocastScope autocast(precision_, device_.type());
      output = task_.forward(batch.fields);
      loss = task_.loss(output, batch.fields);
    }
    // Each micro-batch on each rank contributes its share of the global batch's mean loss, so the
    // gradient sum over micro-steps and ranks is the global average with no division afterwards.
    const int64_t shares = options_.accumulate * comm_.size();
    scaler_.scale(shares > 1 ? loss / static_cast<double>(shares) : loss).backward();
    {
      torch::NoGradGuard no_grad;
      task_.accumulate_metrics(output.detach(), batch.fields, loss.detach(), sums);
    }
    double lr = scheduler_.lr(state_.step);
    if (boundary) {
      gradient_sync_.finish();
      // Every rank holds the same reduced gradients, so every rank takes the same skip decision.
      const bool overflow = scaler_.unscale(params_.grads());
      if (!overflow) {
        if (options_.grad_clip > 0) tasks::clip_grad_norm(params_, options_.grad_clip);
        optimizer_.step(lr);
      }
      scaler_.update(overflow);
      params_.zero_grad();
      ++state_.step;
      if (options_.check_sync) check_parameters_in_sync();
    }
    state_.train_samples += batch.size;
    state_.epoch_step = step + 1;
    seconds = seconds_before + seconds_since(start);
    double elapsed_total = state_.train_seconds + seconds_since(start);
    auto avg = sums.averages();
    show_progress("train", state_.epoch + 1, step + 1, steps, avg["loss"], avg.count("top1") ? avg["top1"] : 0,
                  elapsed_total > 0 ? state_.train_samples * comm_.size() / elapsed_total : 0, lr);
    if (!boundary || step + 1 == steps) continue;  // the epoch's end saves its own checkpoints
    // Where a resumed run picks up: after this step, with this epoch's sums and time so far.
    auto resumable = [&] {
      TrainerState s = state_;
      s.train_seconds += seconds_since(start);
      s.epoch_sums = sums_to_json(sums);
      s.epoch_seconds = seconds;
      return s;
    };
    if (stop_requested_anywhere()) {
      progress_.end();
      state_ = resumable();
      broadcast_buffers();
      save_mid_epoch(state_);
      if (comm_.rank() == 0) {
        spdlog::warn("interrupted at epoch {} step {}: saved {}; continue with --resume", state_.epoch + 1, step + 1,
                     run_dir_.last_checkpoint());
      }
      throw Interrupted("training interrupted by a signal", run_dir_.path(), "continue with --resume");
    }
    if (options_.checkpoint_every > 0 && state_.step % options_.checkpoint_every == 0) save_mid_epoch(resumable());
  }
  progress_.end();
  state_.train_seconds += seconds_since(start);
  state_.epoch_step = 0;
  state_.epoch_sums = nullptr;
  state_.epoch_seconds = 0;
  ++state_.epoch;

  return reduce(sums, seconds);
}

EpochMetrics Trainer::reduce(const tasks::MetricSums& sums, double seconds) {
  // Sums and counts travel together in one all-reduce, so every rank divides the same totals.
  auto names = task_.sum_names();
  auto packed = torch::zeros({static_cast<int64_t>(names.size()) + 1}, torch::kFloat64);
  double* p = packed.data_ptr<double>();
  p[0] = sums.count;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = sums.sums.find(names[i]);
    p[i + 1] = it == sums.sums.end() ? 0.0 : it->second;
  }
  comm_.all_reduce_sum(packed);
  p = packed.data_ptr<double>();
  tasks::MetricSums total;
  total.count = p[0];
  for (size_t i = 0; i < names.size(); ++i) total.sums[names[i]] = p[i + 1];
  EpochMetrics metrics;
  metrics.samples = static_cast<int64_t>(total.count);
  for (const auto& [name, value] : task_.metrics(total)) metrics.values[name] = value;
  metrics.seconds = seconds;
  return metrics;
}

EpochMetrics Trainer::evaluate(DataLoader& loader, const std::string& phase) {
  broadcast_buffers();
  auto& model = task_.model();
  model.eval();
  torch::NoGradGuard no_grad;
  loader.start_epoch(0);
  int64_t steps = loader.steps_per_epoch();
  progress_.begin(phase, std::max<int64_t>(state_.epoch, 1), std::max<int64_t>(options_.epochs, 1), steps);
  tasks::MetricSums sums;
  // Embeddings are judged by their neighbours in the train split: test always, val every knn_every epochs.
  const bool knn = knn_ && (phase != "val" || (options_.knn_every > 0 && state_.epoch % options_.knn_every == 0));
  std::vector<torch::Tensor> embeddings, labels;
  Batch batch;
  auto start = Clock::now();
  for (int64_t step = 0; step < steps && loader.next(batch); ++step) {
    if (batch.size > 0) {
      batch.move_to(device_);
      torch::Tensor output, loss;
      {
        tasks::AutocastScope autocast(precision_, device_.type());
        output = task_.forward(batch.fields);
        loss = task_.loss(output, batch.fields);
      }
      task_.accumulate_metrics(output, batch.fields, loss, sums);
      if (knn) {
        embeddings.push_back(output);
        labels.push_back(batch.at("label"));
      }
    }
    auto avg = sums.averages();
    show_progress(phase, std::max<int64_t>(state_.epoch, 1), step + 1, steps, avg["loss"],
                  avg.count("top1") ? avg["top1"] : 0, sums.count / std::max(seconds_since(start), 1e-9), 0);
  }
  progress_.end();
  EpochMetrics metrics = reduce(sums, seconds_since(start));
  if (knn) {
    auto embed = [&](Batch& b) {
      b.move_to(device_);
      tasks::AutocastScope autocast(precision_, device_.type());
      return task_.forward(b.fields);
    };
    knn_->score(embed, comm_, device_, embeddings, labels, metrics.values);
  }
  model.train();
  return metrics;
}

void Trainer::record(const std::string& split, const EpochMetrics& metrics) {
  nlohmann::json row = {{"epoch", state_.epoch}, {"step", state_.step}, {"split", split},
                        {"samples", metrics.samples}, {"seconds", metrics.seconds}};
  for (const auto& [k, v] : metrics.values) row[k] = v;
  if (split == "train") {
    row["lr"] = scheduler_.lr(std::max<int64_t>(state_.step - 1, 0));
    row["samples_per_sec"] = metrics.seconds > 0 ? metrics.samples / metrics.seconds : 0.0;
  }
  state_.metric_rows.push_back(row);
  if (comm_.rank() != 0) return;
  std::vector<std::string> columns = {"epoch", "split", "step", "samples"};
  for (const auto& name : task_.metric_names()) columns.push_back(name);
  if (knn_) columns.insert(columns.end(), kKnnMetrics.begin(), kKnnMetrics.end());
  for (const char* extra : {"lr", "samples_per_sec", "seconds"}) columns.push_back(extra);
  run_dir_.write_metrics(state_.metric_rows, columns);
}

core::Checkpoint Trainer::make_checkpoint(const TrainerState& trainer_state) const {
  core::Checkpoint c;
  c.model = state_dict(task_.model());
  c.optimizer = optimizer_.state();
  c.optimizer_meta = optimizer_.meta();
  c.scheduler = {{"step", state_.step}};
  TrainerState state = trainer_state;
  state.loss_scaler = scaler_.state();
  c.trainer = state.to_json();
  c.rng_state = at::detail::getDefaultCPUGenerator().get_state();
  c.config = config_yaml_;
  c.manifest = manifest_.to_json();
  c.manifest_hash = manifest_.hash();
  c.assets = assets_;
  return c;
}

void Trainer::save_checkpoints(bool is_best) {
  broadcast_buffers();  // a collective: every rank takes part, rank 0 writes
  if (comm_.rank() == 0) {
    std::string path = run_dir_.epoch_checkpoint(state_.epoch);
    core::save_checkpoint(make_checkpoint(state_), path);
    publish_as(path, run_dir_.last_checkpoint());
    if (is_best) publish_as(path, run_dir_.best_checkpoint());
    run_dir_.prune_epoch_checkpoints(options_.keep_checkpoints);
    report_checkpoint(path, state_);
  }
  // Nobody reads a checkpoint before it is complete, and a failed write stops every rank here.
  comm_.barrier();
}

void Trainer::save_mid_epoch(const TrainerState& state) {
  // Only rank 0's buffers are written, so the other ranks' need not be made equal first.
  if (comm_.rank() == 0) {
    core::save_checkpoint(make_checkpoint(state), run_dir_.last_checkpoint());
    report_checkpoint(run_dir_.last_checkpoint(), state);
  }
  comm_.barrier();
}

void Trainer::report_checkpoint(const std::string& path, const TrainerState& state) {
  if (!reporter_) return;
  core::wire::Message m;
  m.type = core::wire::MessageType::kCheckpoint;
  m.path = fs::absolute(path).string();
  m.epoch = state.epoch;
  m.epochs = options_.epochs;
  m.step = state.step;
  m.phase_step = state.epoch_step;
  reporter_->send(std::move(m));
}

void Trainer::show_progress(const std::string& phase, int64_t epoch, int64_t done, int64_t total, double loss,
                            double accuracy, double samples_per_sec, double lr) {
  progress_.update(done, loss, accuracy, samples_per_sec, lr);
  if (!reporter_) return;
  reporter_->set_position(phase, epoch, options_.epochs, state_.step, done, total);
  core::wire::Message m;
  m.loss = loss;
  m.metric = accuracy;
  m.samples_per_sec = samples_per_sec / comm_.size();  // the launcher sums the ranks
  m.lr = lr;
  reporter_->progress(m);
}

void Trainer::resume(const std::string& checkpoint_path) {
  core::Checkpoint c = core::load_checkpoint(checkpoint_path);
  if (c.manifest_hash != manifest_.hash()) {
    throw Error("checkpoint was written for a different dataset (manifest hash " + c.manifest_hash + ", data has " +
                    manifest_.hash() + ")",
                checkpoint_path, "resume with the same --data, or start a new run");
  }
  load_state_dict(task_.model(), c.model, checkpoint_path);
  optimizer_.load_state(c.optimizer);
  state_ = TrainerState::from_json(c.trainer);
  if (!state_.loss_scaler.is_null()) scaler_.load_state(state_.loss_scaler);
  if (state_.best_epoch == 0) state_.best = initial_best();
  if (c.rng_state.defined()) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(c.rng_state);
  }
  spdlog::info("resumed from {} at epoch {} step {}", checkpoint_path, state_.epoch, state_.step);
}

void Trainer::load_weights(const std::string& checkpoint_path) {
  // Rank 0 reads, the others receive: hosts need not share the run directory's filesystem.
  if (comm_.rank() == 0) {
    core::Checkpoint c = core::load_checkpoint(checkpoint_path);
    load_state_dict(task_.model(), c.model, checkpoint_path);
  }
  broadcast_model();
}

void Trainer::broadcast_model() {
  if (comm_.size() == 1) return;
  torch::NoGradGuard no_grad;
  comm_.broadcast(params_.values(), 0);
  broadcast_buffers();
}

void Trainer::broadcast_buffers() {
  if (comm_.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (auto& buffer : task_.model().buffers()) {
    if (buffer.defined() && buffer.numel() > 0) comm_.broadcast(buffer, 0);
  }
}

void Trainer::check_parameters_in_sync() const {
  if (comm_.size() == 1) return;
  torch::Tensor values = params_.values().to(torch::kCPU).contiguous();
  const uint32_t crc = core::crc32_of(values.data_ptr(), values.nbytes());
  torch::Tensor mine = torch::tensor({static_cast<int64_t>(crc)}, torch::kInt64);
  torch::Tensor all = comm_.all_gather(mine);
  std::string report;
  bool same = true;
  for (int r = 0; r < comm_.size(); ++r) {
    const int64_t c = all[r].item<int64_t>();
    same = same && c == all[0].item<int64_t>();
    report += fmt::format("{}rank {}: {:08x}", r ? ", " : "", r, c);
  }
  if (!same) {
    throw Error(fmt::format("parameters differ across ranks after step {} ({})", state_.step, report), "--check-sync",
                "this is the first step where they differ: suspect a non-deterministic reduction, a rank that "
                "skipped a step, or memory corruption on the ranks whose checksum stands out");
  }
}

bool Trainer::stop_requested_anywhere() {
  const bool here = stop_ != nullptr && stop_->load();
  if (comm_.size() == 1) return here;
  torch::Tensor flag = torch::tensor({here ? int64_t{1} : int64_t{0}}, torch::kInt64);
  comm_.all_reduce_sum(flag);
  return flag.item<int64_t>() > 0;
}

}  // namespace strike::worker
