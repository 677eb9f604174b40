// The quickstart pipeline, calling the same commands a user would type.
#include "launcher/quickstart.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "core/env.h"
#include "core/error.h"
#include "core/image.h"
#include "core/shard.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/verify.h"
#include "launcher/spawn.h"
#include "worker/eval_command.h"
#include "worker/predict_command.h"
#include "core/fs.h"

namespace strike::launcher {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDebianFashionMnist = "/usr/share/datasets/fashion-mnist";

void step(int n, const std::string& what) { std::cout << "\n== " << n << "/4 " << what << std::endl; }

std::string prepare_data(const QuickstartOptions& o, const std::string& data_dir) {
  if (fs::exists(fs::path(data_dir) / "manifest.json") && data::verify(data_dir).ok) {
    std::cout << "using the converted dataset in " << data_dir << std::endl;
    return data_dir;
  }
  data::ConvertOptions c;
  c.input = o.source.empty() ? env::get(env::kFashionMnistDir, kDebianFashionMnist) : o.source;
  if (!fs::is_directory(c.input)) {
    throw Error("Fashion-MNIST not found", c.input,
                "install it with `apt-get install dataset-fashion-mnist`, or pass --source DIR");
  }
  c.output = data_dir;
  c.overwrite = true;
  core::Manifest m = data::convert(c);
  std::cout << "converted " << c.input << " -> " << data_dir << " (train " << m.split("train").samples << ", val "
            << m.split("val").samples << ", test " << m.split("test").samples << ")" << std::endl;
  return data_dir;
}

// Writes the first `n` test images as PNG files, so prediction runs on real image files.
std::vector<std::pair<std::string, std::string>> write_samples(const std::string& data_dir, const std::string& out_dir,
                                                               int64_t n) {
  core::Manifest m = core::Manifest::load(data_dir);
  const auto& split = m.split("test");
  core::ShardReader reader((fs::path(data_dir) / split.shards.at(0).file).string(), m.fields);
  n = std::min(n, reader.rows());
  const auto& image_field = m.field("image");
  std::vector<uint8_t> pixels(static_cast<size_t>(n * image_field.sample_bytes()));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  reader.read(image_field, 0, n, pixels.data());
  reader.read(m.field("label"), 0, n, labels.data());
  fs::create_directories(out_dir);
  std::vector<std::pair<std::string, std::string>> samples;
  for (int64_t i = 0; i < n; ++i) {
    core::Image image{image_field.shape[0], image_field.shape[1], image_field.shape[2], {}};
    auto begin = pixels.begin() + i * image_field.sample_bytes();
    image.pixels.assign(begin, begin + image_field.sample_bytes());
    std::string path = (fs::path(out_dir) / ("test-" + std::to_string(i) + ".png")).string();
    core::encode_png(image, path);
    samples.emplace_back(path, m.class_names.at(static_cast<size_t>(labels[i])));
  }
  return samples;
}

}  // namespace

void add_quickstart_options(CLI::App& app, QuickstartOptions& o) {
  app.add_option("--workdir", o.workdir, "Folder for data/, run/ and samples/");
  app.add_option("--source", o.source,
                 std::string("Fashion-MNIST IDX folder (empty: $") + env::kFashionMnistDir + " or " + kDebianFashionMnist + ")");
  app.add_option("--backbone", o.backbone, "Backbone of the baseline");
  app.add_option("--epochs", o.epochs, "Training epochs")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", o.batch_size, "Samples per step")->check(CLI::PositiveNumber);
  app.add_option("--lr", o.lr, "Peak learning rate")->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "Intra-op threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--samples", o.samples, "Test images to predict and show")->check(CLI::PositiveNumber);
}

int run_quickstart(const QuickstartOptions& o) {
  auto start = std::chrono::steady_clock::now();
  std::string data_dir = (fs::path(o.workdir) / "data" / "fashion-mnist").string();
  std::string run_dir = (fs::path(o.workdir) / "run").string();
  std::string samples_dir = (fs::path(o.workdir) / "samples").string();

  step(1, "convert Fashion-MNIST to HDF5 shards");
  prepare_data(o, data_dir);

  step(2, "train " + o.backbone + " for " + std::to_string(o.epochs) + " epochs");
  if (!core::remove_tree(run_dir)) {  // each quickstart is a fresh run
    throw Error("cannot remove the previous quickstart run: " + std::string(std::strerror(errno)), run_dir,
                "remove it by hand or pick another --workdir");
  }
  int rc = run_child({worker_path(), "train", "--data", data_dir, "--output", run_dir, "--backbone", o.backbone,
                      "--epochs", std::to_string(o.epochs), "--batch-size", std::to_string(o.batch_size),
                      "--optimizer", "adamw", "--lr", std::to_string(o.lr), "--schedule", "onecycle",
                      "--threads", std::to_string(o.threads)});
  if (rc != 0) return rc;
  std::string best = (fs::path(run_dir) / "checkpoints" / "best.h5").string();

  step(3, "evaluate the best checkpoint on the test split");
  worker::EvalOptions eval;
  eval.checkpoint = best;
  eval.data = data_dir;
  eval.split = "test";
  eval.threads = o.threads;
  eval.output = (fs::path(run_dir) / "test_metrics.json").string();
  worker::run_eval(eval);

  step(4, "predict " + std::to_string(o.samples) + " test images");
  auto samples = write_samples(data_dir, samples_dir, o.samples);
  worker::PredictOptions predict;
  predict.checkpoint = best;
  for (const auto& s : samples) predict.inputs.push_back(s.first);
  predict.output = (fs::path(samples_dir) / "predictions.json").string();
  predict.threads = o.threads;
  worker::run_predict(predict);
  auto predictions = nlohmann::json::parse(std::ifstream(predict.output))["predictions"];
  std::cout << std::left << std::setw(40) << "image" << std::setw(14) << "predicted" << "true" << std::endl;
  for (size_t i = 0; i < samples.size(); ++i) {
    std::string predicted = predictions.at(i)["label"];
    std::cout << std::setw(40) << samples[i].first << std::setw(14) << predicted << samples[i].second
              << (predicted == samples[i].second ? "" : "   (wrong)") << std::endl;
  }
  auto metrics = nlohmann::json::parse(std::ifstream(eval.output));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << std::fixed << std::setprecision(4) << "\nquickstart done in " << std::setprecision(0) << seconds
            << " s: test accuracy " << std::setprecision(4) << metrics["test_top1"].get<double>() << "; run directory "
            << run_dir << std::endl;
  return 0;
}

}  // namespace strike::launcher
