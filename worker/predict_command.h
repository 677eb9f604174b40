// `predict`: labels, probabilities or logits for image files, folders or a dataset split.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strike::worker {

struct PredictOptions {
  std::string checkpoint;            // checkpoint file (required)
  std::vector<std::string> inputs;   // image files and/or folders (searched recursively for PNG/JPEG); CSV files
                                     // for a tabular model; text files and/or folders for a text model
  std::string data;                  // or: a dataset directory ...
  std::string split = "test";        // ... and its split
  int64_t limit = 0;                 // predict at most this many samples; 0 = all
  std::string kind = "labels";       // labels, probabilities or logits
  std::string output;                // .csv or .json file; empty = print CSV to stdout
  int64_t batch_size = 256;          // samples per forward pass
  int threads = 0;                   // intra-op threads; 0 = all cores
};

void add_predict_options(CLI::App& app, PredictOptions& options);
int run_predict(const PredictOptions& options);

}  // namespace strike::worker
