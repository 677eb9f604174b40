// The TextBackbone interface (padded token ids -> feature vector) and its registry.
#pragma once
#include "tasks/registry.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace strike::tasks {

// What every text backbone is built from; filled from the dataset manifest's tokenizer record.
struct TextBackboneOptions {
  int64_t vocab_size = 0;    // token ids lie in [0, vocab_size)
  int64_t max_tokens = 512;  // the longest row the dataset holds (--max-tokens at conversion)
  int64_t pad_id = 0;        // the id padding positions hold
};

// A module mapping a batch of token rows to features [B, feature_dim()]. `tokens` is int64 [B, L],
// each row padded with pad_id after its first lengths[b] ids; `lengths` int64 [B] (each at least 0).
class TextBackbone : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& lengths) = 0;
  virtual int64_t feature_dim() const = 0;
};

using TextBackboneFactory = std::function<std::shared_ptr<TextBackbone>(const TextBackboneOptions&)>;

// bag_of_embeddings, transformer.
const Registry<TextBackboneFactory>& text_backbones();

// bool [B, L]: true at positions at or after each row's length (padding).
torch::Tensor padding_mask(const torch::Tensor& lengths, int64_t width);

// The mean over each row's first lengths[b] positions of x [B, L, D]; a row of length 0 gives zeros.
torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& padding, const torch::Tensor& lengths);

}  // namespace strike::tasks
