// gather_with_grad as a custom autograd function over RankPeers.
#include "tasks/rank_peers.h"

#include <cstdint>

namespace strike::tasks {

namespace {

struct GatherWithGrad : torch::autograd::Function<GatherWithGrad> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& local, RankPeers* peers) {
    // saved_data holds IValues: the peers (which outlive the step) travel as an address.
    ctx->saved_data["peers"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(peers));
    ctx->saved_data["rows"] = local.size(0);
    return peers->all_gather(local.contiguous());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* peers = reinterpret_cast<RankPeers*>(static_cast<intptr_t>(ctx->saved_data["peers"].toInt()));
    const int64_t rows = ctx->saved_data["rows"].toInt();
    torch::Tensor sum = grads[0].contiguous().clone();
    peers->all_reduce_sum(sum);
    return {sum.narrow(0, peers->rank() * rows, rows), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gather_with_grad(RankPeers& peers, const torch::Tensor& local) {
  return GatherWithGrad::apply(local, &peers);
}

}  // namespace strike::tasks
