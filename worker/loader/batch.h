// One mini-batch as it leaves the loader: named tensors, ready for a Task.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

namespace strike::worker {

struct Batch {
  // Field name -> tensor with the batch as first dimension. For image datasets:
  //   "image": float32 [B, C, H, W], normalized with the manifest's mean/std (uint8 if not normalized)
  //   "label": int64 [B]
  //   "index": int64 [B], each sample's row index within its split (stable ids for predict output)
  // For each ragged field NAME (shape [-1] in the manifest, e.g. text datasets' "tokens"):
  //   NAME: int64 [B, L], L the batch's longest row (at least 1), rows padded with the manifest's
  //         extra.tokenizer.pad_id (0 when absent); [0, 1] for an empty batch
  //   NAME + "_length": int64 [B], each row's true length
  std::map<std::string, torch::Tensor> fields;
  int64_t size = 0;  // B; may be 0 for a rank with nothing left in a non-dropping (eval) epoch

  const torch::Tensor& at(const std::string& name) const;
  // The loader fills CPU tensors; a GPU rank copies each batch over once.
  void move_to(torch::Device device);
};

}  // namespace strike::worker
