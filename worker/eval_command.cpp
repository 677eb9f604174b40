// `eval`: one pass over a split, metrics printed and optionally written as JSON.
#include "worker/eval_command.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "core/error.h"
#include "core/fs.h"
#include "tasks/knn.h"
#include "worker/embed_command.h"
#include "worker/loader/loader.h"
#include "worker/train_command.h"
#include "worker/trained_model.h"

namespace strike::worker {

void add_eval_options(CLI::App& app, EvalOptions& o) {
  app.add_option("--checkpoint", o.checkpoint, "Checkpoint to evaluate (e.g. RUN/checkpoints/best.h5)")->required();
  app.add_option("--data", o.data, "Dataset directory (empty: the one the run trained on)");
  app.add_option("--split", o.split, "Split to evaluate");
  app.add_option("--batch-size", o.batch_size, "Samples per step")->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "Intra-op threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--output", o.output, "Also write the metrics as JSON to this file");
  app.add_flag("--verify-data,!--no-verify-data", o.verify_data, "Check shard checksums before reading");
  app.add_option("--reference", o.reference, "image_embedding: split whose embeddings are the kNN neighbours");
  app.add_option("--knn-k", o.knn_k, "image_embedding: neighbours in the kNN vote")->check(CLI::PositiveNumber);
}

int run_eval(const EvalOptions& o) {
  torch::set_num_threads(choose_threads(o.threads, 1));
  TrainedModel model = load_trained_model(o.checkpoint);
  std::string data = o.data.empty() ? model.data : o.data;
  require(!data.empty(), "no --data given and the checkpoint does not record its dataset");
  LoaderOptions l;
  l.batch_size = o.batch_size;
  l.shuffle = false;
  l.drop_last = false;
  l.verify_checksums = o.verify_data;
  DataLoader loader(data, o.split, 0, 1, l);
  if (loader.manifest().hash() != model.manifest.hash()) {
    spdlog::warn("{} is not the dataset {} was trained on (manifest hashes differ)", data, o.checkpoint);
  }
  if (loader.manifest().class_names != model.manifest.class_names) {
    throw Error("the dataset's classes differ from the checkpoint's", data, "evaluate on data with the same classes");
  }

  torch::NoGradGuard no_grad;
  tasks::MetricSums sums;
  // An embedding model's outputs are its embeddings: kept for the kNN evaluation below.
  const bool embeddings = model.task->name() == "image_embedding";
  std::vector<torch::Tensor> outputs, labels;
  loader.start_epoch(0);
  Batch batch;
  while (loader.next(batch)) {
    if (batch.size == 0) continue;
    auto output = model.task->forward(batch.fields);
    auto loss = model.task->loss(output, batch.fields);
    model.task->accumulate_metrics(output, batch.fields, loss, sums);
    if (embeddings) {
      outputs.push_back(output);
      labels.push_back(batch.at("label"));
    }
  }
  nlohmann::json result = {{"checkpoint", o.checkpoint}, {"data", data}, {"split", o.split},
                           {"samples", static_cast<int64_t>(sums.count)}};
  for (const auto& [k, v] : model.task->metrics(sums)) result[o.split + "_" + k] = v;
  if (embeddings && !outputs.empty()) {
    // Embeddings are judged by their neighbours: each query's k nearest reference embeddings vote.
    SplitEmbeddings reference = embed_split(model, data, o.reference, o.batch_size, o.verify_data);
    require(reference.labels.defined(), "kNN evaluation needs a labelled --reference split");
    tasks::KnnResult knn = tasks::knn_evaluate(reference.embeddings, reference.labels, torch::cat(outputs),
                                               torch::cat(labels), o.knn_k,
                                               static_cast<int64_t>(model.manifest.class_names.size()));
    result[o.split + "_knn_top1"] = knn.accuracy;
    result[o.split + "_recall_at_1"] = knn.recall_at_1;
    result["knn_k"] = knn.k;
    result["knn_reference"] = o.reference;
  }
  std::cout << result.dump(2) << std::endl;
  if (!o.output.empty()) core::write_file_atomically(o.output, result.dump(2) + "\n");
  return kExitOk;
}

}  // namespace strike::worker
