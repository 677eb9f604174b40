// `embed`: an image_embedding checkpoint's embeddings of a dataset split, written to HDF5.
#pragma once
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <string>

#include "worker/trained_model.h"

namespace strike::worker {

struct EmbedOptions {
  std::string checkpoint;      // image_embedding checkpoint (required)
  std::string data;            // dataset directory; empty = the one the run trained on
  std::string split = "test";  // split to embed
  std::string output;          // HDF5 file to write (required)
  int64_t batch_size = 512;    // images per forward pass
  int threads = 0;             // intra-op threads; 0 = all cores
  bool verify_data = true;     // check shard checksums before reading
};

// A split's embeddings in split order: embeddings float32 [N, D], labels and row indices int64 [N].
struct SplitEmbeddings {
  torch::Tensor embeddings, labels, index;
};

// Embeds every row of `split` of `data` once, in order, with the model in eval mode.
SplitEmbeddings embed_split(TrainedModel& model, const std::string& data, const std::string& split, int64_t batch_size,
                            bool verify_data);

void add_embed_options(CLI::App& app, EmbedOptions& options);
int run_embed(const EmbedOptions& options);

}  // namespace strike::worker
