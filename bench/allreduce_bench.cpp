// Gradient-sync efficiency, in the spirit of OSU osu_allreduce and nccl-tests: for each message size,
// the algorithm bandwidth (bytes / time) of strike's bucketed gradient all-reduce (GradientSync over
// MpiCommunicator) against raw in-place MPI_Allreduce of the same bytes, measured in the same process.
//
//   mpirun -np 2 strike_allreduce_bench [--min-bytes B] [--max-bytes B] [--params N] [--warmup N]
//                                       [--iters N] [--bucket-mb MB] [--first-bucket-mb MB]
//                                       [--compression none|bf16|fp16]
//
// strike's path: a fake model of --params equal float32 parameters whose flat gradient buffer has the
// message size, bucketed by GradientSync (default options: 25 MiB buckets, 1 MiB first). One timed
// iteration is prepare(true), "every gradient ready" in backward order (the hooks GradientSync put on
// the gradient accumulators are called directly: no autograd, no compute) and finish() (wait for all
// buckets; the sum is the average because each rank scales its loss by 1/world size). Each
// iteration starts after a barrier; its time is the slowest rank's; the figure is the median over --iters after --warmup. Raw MPI_Allreduce, raw
// MPI_Iallreduce+MPI_Wait, MpiCommunicator's async all-reduce of the whole buffer and a div_ of the same
// size are timed interleaved with strike's path, so load changes hit all alike.
// One line per size on rank 0: bytes, buckets, microseconds of each, GB/s of raw and strike, and the
// ratio strike/raw bandwidth (= raw time / strike time).
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <torch/csrc/autograd/variable.h>
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tasks/optim/flat_parameters.h"
#include "worker/comm/gradient_sync.h"
#include "worker/comm/mpi_communicator.h"

namespace {

struct Options {
  int64_t min_bytes = 64 << 10;
  int64_t max_bytes = 64 << 20;
  int params = 16;  // parameters in the fake model (equal sizes, so buckets split as in a real model)
  int warmup = 5;
  int iters = 0;    // 0: by size (more for small messages)
  strike::worker::GradientSyncOptions sync;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--min-bytes") o.min_bytes = std::atoll(next());
    else if (a == "--max-bytes") o.max_bytes = std::atoll(next());
    else if (a == "--params") o.params = std::atoi(next());
    else if (a == "--warmup") o.warmup = std::atoi(next());
    else if (a == "--iters") o.iters = std::atoi(next());
    else if (a == "--bucket-mb") o.sync.bucket_mb = std::atof(next());
    else if (a == "--first-bucket-mb") o.sync.first_bucket_mb = std::atof(next());
    else if (a == "--compression") o.sync.compression = next();
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

// A module with `count` float32 parameters that together hold `numel` elements.
struct FakeModel : torch::nn::Module {
  FakeModel(int64_t numel, int count) {
    count = static_cast<int>(std::min<int64_t>(count, numel));
    for (int i = 0; i < count; ++i) {
      int64_t n = numel / count + (i < numel % count ? 1 : 0);
      register_parameter("p" + std::to_string(i), torch::zeros({n}));
    }
  }
};

// What backward's gradient accumulators do once a gradient is in place: run their post hooks (where
// GradientSync listens), last parameter first.
// What backward's gradient accumulators do once a gradient is in place: run their post hooks (where
// GradientSync listens), last parameter first. The engine holds the accumulator nodes; so does this.
class GradientsReady {
 public:
  explicit GradientsReady(const strike::tasks::FlatParameters& params) {
    for (const auto& t : params.parameters()) accumulators_.push_back(torch::autograd::impl::grad_accumulator(t));
  }
  void fire() const {
    for (size_t i = accumulators_.size(); i-- > 0;) {
      for (auto& hook : accumulators_[i]->post_hooks()) (*hook)({}, {});
    }
  }

 private:
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  torch::set_num_threads(1);
  strike::worker::MpiCommunicator comm(&argc, &argv);  // MPI_Init_thread(serialized), as in strike-worker
  const int rank = comm.rank(), size = comm.size();
  if (rank == 0) {
    std::printf("# strike_allreduce_bench: %d ranks, %d params, buckets %.3g MiB (first %.3g MiB), compression %s\n",
                size, o.params, o.sync.bucket_mb, o.sync.first_bucket_mb, o.sync.compression.c_str());
    std::printf("# %10s %7s %10s %10s %10s %10s %10s %9s %9s %7s\n", "bytes", "buckets", "raw_us", "iraw_us",
                "comm_us", "strike_us", "div_us", "raw_GB/s", "strk_GB/s", "ratio");
  }
  for (int64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= 2) {
    const int64_t numel = bytes / 4;
    int iters = o.iters > 0 ? o.iters : static_cast<int>(std::clamp<int64_t>((int64_t{512} << 20) / bytes, 15, 100));
    FakeModel model(numel, o.params);
    strike::tasks::FlatParameters params(model);
    params.grads().fill_(1.0f + rank);
    strike::worker::GradientSync sync(params, comm, o.sync);
    const GradientsReady all_gradients_ready(params);
    // Every operation reduces the same buffer, the flat gradients, so each finds it equally warm in
    // cache (as training does: backward has just written it).
    torch::Tensor raw = params.grads();
    torch::Tensor scratch = torch::ones({numel});
    // The timed operations, in this order: raw MPI_Allreduce, raw MPI_Iallreduce + MPI_Wait, the
    // communicator strike uses (MpiCommunicator::all_reduce_sum_async + wait on the whole flat gradient
    // buffer: one message, no averaging), strike's GradientSync, and the averaging alone (div_ of a buffer
    // of the same size), so that strike's time can be split into transport, bucketing and averaging.
    constexpr int kOps = 5;
    std::vector<double> times[kOps];
    for (int it = 0; it < o.warmup + iters; ++it) {
      double local[kOps];
      params.grads().fill_(1.0f + rank);  // untimed: keeps the sums of sums finite
      // Rotate the order so no operation always runs right after the same other one.
      for (int k = 0; k < kOps; ++k) {
        int which = (k + it) % kOps;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (which == 0) {
          MPI_Allreduce(MPI_IN_PLACE, raw.data_ptr<float>(), static_cast<int>(numel), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        } else if (which == 1) {
          MPI_Request r;
          MPI_Iallreduce(MPI_IN_PLACE, raw.data_ptr<float>(), static_cast<int>(numel), MPI_FLOAT, MPI_SUM,
                         MPI_COMM_WORLD, &r);
          MPI_Wait(&r, MPI_STATUS_IGNORE);
        } else if (which == 2) {
          comm.all_reduce_sum_async(raw)->wait();
        } else if (which == 3) {
          sync.prepare(true);
          all_gradients_ready.fire();
          sync.finish();
        } else {
          scratch.div_(static_cast<double>(size));
        }
        local[which] = MPI_Wtime() - t0;
      }
      double slowest[kOps];
      MPI_Allreduce(local, slowest, kOps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      if (it >= o.warmup) {
        for (int k = 0; k < kOps; ++k) times[k].push_back(slowest[k]);
      }
    }
    // Correctness of strike's path: gradients pre-scaled by 1/size (as the trainer's loss scaling
    // makes them) must sum to the mean of 1..size.
    params.grads().fill_((1.0f + rank) / size);
    sync.prepare(true);
    all_gradients_ready.fire();
    sync.finish();
    float expected = (1.0f + size) / 2.0f;
    float got_min = params.grads().min().item<float>(), got_max = params.grads().max().item<float>();
    bool ok = std::abs(got_min - expected) < 1e-3f && std::abs(got_max - expected) < 1e-3f;

    if (rank == 0) {
      double raw_s = median(times[0]), iraw_s = median(times[1]), comm_s = median(times[2]),
             strike_s = median(times[3]), div_s = median(times[4]);
      std::printf("%12lld %7zu %10.1f %10.1f %10.1f %10.1f %10.1f %9.3f %9.3f %7.3f%s\n",
                  static_cast<long long>(bytes), sync.buckets().size(), raw_s * 1e6, iraw_s * 1e6, comm_s * 1e6,
                  strike_s * 1e6, div_s * 1e6, bytes / raw_s / 1e9, bytes / strike_s / 1e9, raw_s / strike_s,
                  ok ? "" : "  WRONG RESULT");
      std::fflush(stdout);
    }
    if (!ok) return 1;
  }
  return 0;
}
