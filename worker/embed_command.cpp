// `embed`: split embeddings through the loader, written as an HDF5 file that h5py opens.
#include "worker/embed_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "core/error.h"
#include "core/fs.h"
#include "core/h5.h"
#include "tasks/image_embedder.h"
#include "worker/loader/loader.h"
#include "worker/train_command.h"

namespace strike::worker {

SplitEmbeddings embed_split(TrainedModel& model, const std::string& data, const std::string& split, int64_t batch_size,
                            bool verify_data) {
  auto* embedder = dynamic_cast<tasks::ImageEmbedder*>(model.task.get());
  if (embedder == nullptr) {
    throw UsageError("the checkpoint's task is " + model.task->name() + ", not image_embedding", model.checkpoint,
                     "train one with `strike train --task image_embedding`");
  }
  LoaderOptions l;
  l.batch_size = batch_size;
  l.shuffle = false;
  l.drop_last = false;
  l.verify_checksums = verify_data;
  DataLoader loader(data, split, 0, 1, l);
  if (loader.manifest().hash() != model.manifest.hash()) {
    spdlog::warn("{} is not the dataset {} was trained on (manifest hashes differ)", data, model.checkpoint);
  }
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> embeddings, labels, index;
  loader.start_epoch(0);
  Batch batch;
  while (loader.next(batch)) {
    if (batch.size == 0) continue;
    embeddings.push_back(embedder->embed(batch.at("image")));
    index.push_back(batch.at("index"));
    if (batch.fields.count("label")) labels.push_back(batch.at("label"));
  }
  require(!embeddings.empty(), "the split '" + split + "' is empty");
  SplitEmbeddings out;
  out.embeddings = torch::cat(embeddings).contiguous();
  out.index = torch::cat(index).to(torch::kInt64).contiguous();
  if (!labels.empty()) out.labels = torch::cat(labels).to(torch::kInt64).contiguous();
  return out;
}

void add_embed_options(CLI::App& app, EmbedOptions& o) {
  app.add_option("--checkpoint", o.checkpoint, "image_embedding checkpoint (e.g. RUN/checkpoints/best.h5)")->required();
  app.add_option("--data", o.data, "Dataset directory (empty: the one the run trained on)");
  app.add_option("--split", o.split, "Split to embed");
  app.add_option("--output", o.output, "HDF5 file to write: embeddings [N, D], index [N], label [N]")->required();
  app.add_option("--batch-size", o.batch_size, "Images per forward pass")->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "Intra-op threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_flag("--verify-data,!--no-verify-data", o.verify_data, "Check shard checksums before reading");
}

int run_embed(const EmbedOptions& o) {
  torch::set_num_threads(choose_threads(o.threads, 1));
  TrainedModel model = load_trained_model(o.checkpoint);
  const std::string data = o.data.empty() ? model.data : o.data;
  require(!data.empty(), "no --data given and the checkpoint does not record its dataset");
  SplitEmbeddings e = embed_split(model, data, o.split, o.batch_size, o.verify_data);
  // Written under a temporary name and renamed, so a file under --output is always complete.
  const std::string tmp = core::temporary_name(o.output);
  try {
    h5::File file = h5::File::create(tmp);
    const int64_t n = e.embeddings.size(0), d = e.embeddings.size(1);
    file.write("embeddings", h5::DType::kFloat32, {n, d}, e.embeddings.data_ptr<float>());
    file.write("index", h5::DType::kInt64, {n}, e.index.data_ptr<int64_t>());
    if (e.labels.defined()) file.write("label", h5::DType::kInt64, {n}, e.labels.data_ptr<int64_t>());
    file.set_attr("/", "checkpoint", o.checkpoint);
    file.set_attr("/", "data", data);
    file.set_attr("/", "split", o.split);
    file.set_attr("/", "class_names", nlohmann::json(model.manifest.class_names).dump());
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  core::commit_file(tmp, o.output);
  std::cout << "wrote " << o.output << ": " << e.embeddings.size(0) << " embeddings of " << e.embeddings.size(1)
            << " dimensions (" << o.split << ")" << std::endl;
  return kExitOk;
}

}  // namespace strike::worker
