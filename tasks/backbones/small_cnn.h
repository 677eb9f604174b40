// small_cnn: the default backbone, a compact batch-normed CNN that trains fast on CPUs.
#pragma once
#include "tasks/backbones/backbone.h"
#include "tasks/backbones/batch_norm.h"

namespace strike::tasks {

// conv3x3(C->32)-BN-ReLU-maxpool2, conv3x3(32->64)-BN-ReLU, conv3x3(64->64)-BN-ReLU-maxpool2,
// [adaptive avg-pool to 7x7 unless already 7x7], conv7x7(64->256, the "fully connected" layer)-BN-ReLU.
//
// Why this shape (measured at batch 128, 1x28x28, 2 threads, forward+backward, on an idle machine):
// - On Debian's LibTorch convolutions run on oneDNN but matrix products (nn::Linear) go to the
//   reference netlib BLAS; a 3136->256 Linear alone took half of each step. The fc layer is
//   therefore a 7x7 convolution, which keeps every large product on oneDNN.
// - Two convolutions in both blocks ran ~1150-1500 samples/s, one in each ~2200-2800 but less
//   accurate; one then two (this design) ~1600. Pooling before batch norm ran ~1700-2100 but reached
//   lower accuracy (PyTorch replica, AdamW 1e-3, cosine, batch 128, no augmentation, test accuracy
//   after epochs 1-4: 0.900/0.918/0.925/0.926 against 0.899/0.918/0.931/0.933 for this order).
class SmallCnn : public Backbone {
 public:
  explicit SmallCnn(const BackboneOptions& options);
  torch::Tensor forward(torch::Tensor images) override;
  int64_t feature_dim() const override { return kFeatures; }

  static constexpr int64_t kFeatures = 256;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, fc_{nullptr};
  SyncableBatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, fc_bn_{nullptr};
};

}  // namespace strike::tasks
