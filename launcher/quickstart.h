// `strike quickstart`: the embedded default end to end — convert, train, evaluate, predict.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace strike::launcher {

struct QuickstartOptions {
  std::string workdir = "strike-quickstart";  // holds data/, run/ and samples/
  std::string source;                         // Fashion-MNIST IDX folder; empty = $STRIKE_FASHION_MNIST_DIR or Debian's
  std::string backbone = "small_cnn";         // backbone of the baseline
  int64_t epochs = 3;                         // training epochs
  int64_t batch_size = 128;                   // samples per step
  double lr = 3e-3;                           // peak learning rate (AdamW, one-cycle)
  int threads = 0;                            // intra-op threads; 0 = all cores
  int64_t samples = 3;                        // test images to predict and show
};

void add_quickstart_options(CLI::App& app, QuickstartOptions& options);
int run_quickstart(const QuickstartOptions& options);

}  // namespace strike::launcher
