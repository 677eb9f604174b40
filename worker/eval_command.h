// `eval`: metrics of a checkpoint on a dataset split.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace strike::worker {

struct EvalOptions {
  std::string checkpoint;        // checkpoint file (required)
  std::string data;              // dataset directory; empty = the one the run trained on
  std::string split = "test";    // split to evaluate
  int64_t batch_size = 512;      // samples per step
  int threads = 0;               // intra-op threads; 0 = all cores
  std::string output;            // also write the metrics as JSON here; empty = print only
  bool verify_data = true;       // check shard checksums before reading
  std::string reference = "train";  // image_embedding: the split whose embeddings are the kNN neighbours
  int64_t knn_k = 20;            // image_embedding: neighbours that vote
};

void add_eval_options(CLI::App& app, EvalOptions& options);
int run_eval(const EvalOptions& options);

}  // namespace strike::worker
