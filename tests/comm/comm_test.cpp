// Communicator and GradientSync on real ranks: run under `mpirun -np 2` (ctest does), or alone as one rank.
#include <gtest/gtest.h>

#include <memory>

#include "tasks/image_embedder.h"
#include "tasks/optim/flat_parameters.h"
#include "tasks/rank_peers.h"
#include "worker/comm/communicator.h"
#include "worker/comm/gradient_sync.h"
#include "worker/knn_monitor.h"

namespace strike::worker {
namespace {

// The job's communicator, made once in main() and passed here (gtest has no other way in).
Communicator* g_comm = nullptr;

class Comm : public ::testing::Test {
 protected:
  Communicator& comm = *g_comm;
  int rank = g_comm->rank();
  int size = g_comm->size();
};

TEST_F(Comm, RunsOnTwoRanksUnderMpirun) {
  if (!launched_by_mpi()) GTEST_SKIP() << "not started by mpirun";
  EXPECT_EQ(comm.backend(), "mpi");
  EXPECT_EQ(size, 2);
  EXPECT_EQ(comm.local_size(), 2);  // both on this host
  EXPECT_EQ(comm.local_rank(), rank);
}

TEST_F(Comm, AllReduceSumsEveryDtype) {
  const int64_t expected = size * (size + 1) / 2;  // ranks contribute 1..size
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kBFloat16, torch::kFloat16}) {
    torch::Tensor t = torch::full({1000}, rank + 1, torch::TensorOptions().dtype(dtype));
    comm.all_reduce_sum(t);
    EXPECT_TRUE(torch::equal(t, torch::full({1000}, expected, t.options()))) << dtype;
  }
}

TEST_F(Comm, AsyncAllReduceCompletesInPlace) {
  torch::Tensor a = torch::arange(5000, torch::kFloat32) * (rank + 1);
  torch::Tensor b = torch::ones({3}, torch::kFloat64) * (rank + 1);
  auto pa = comm.all_reduce_sum_async(a);
  auto pb = comm.all_reduce_sum_async(b);
  while (!pa->test()) {
  }
  pb->wait();
  const double factor = size * (size + 1) / 2.0;
  EXPECT_TRUE(torch::allclose(a, torch::arange(5000, torch::kFloat32) * factor));
  EXPECT_TRUE(torch::allclose(b, torch::ones({3}, torch::kFloat64) * factor));
}

TEST_F(Comm, BroadcastAndAllGather) {
  torch::Tensor t = torch::full({2, 3}, rank == 0 ? 7.0 : -1.0);
  comm.broadcast(t, 0);
  EXPECT_TRUE(torch::equal(t, torch::full({2, 3}, 7.0)));
  torch::Tensor mine = torch::full({1, 2}, static_cast<int64_t>(rank), torch::kInt64);
  torch::Tensor all = comm.all_gather(mine);
  ASSERT_EQ(all.size(0), size);
  for (int r = 0; r < size; ++r) EXPECT_EQ(all[r][1].item<int64_t>(), r);
}

TEST_F(Comm, RejectsUnsupportedTensorsWithAMessage) {
  if (size == 1) GTEST_SKIP() << "one rank never looks at the tensor";
  torch::Tensor strided = torch::zeros({4, 4}).t();
  EXPECT_ANY_THROW(comm.all_reduce_sum(strided));
  torch::Tensor bools = torch::zeros({4}, torch::kBool);
  EXPECT_ANY_THROW(comm.all_reduce_sum(bools));
}

// A model whose gradients differ by rank, so the reduction is visible.
struct Net : torch::nn::Module {
  torch::nn::Linear a{nullptr}, b{nullptr}, c{nullptr};
  Net() {
    a = register_module("a", torch::nn::Linear(32, 64));
    b = register_module("b", torch::nn::Linear(64, 64));
    c = register_module("c", torch::nn::Linear(64, 4));
  }
  torch::Tensor forward(torch::Tensor x) { return c(torch::relu(b(torch::relu(a(x))))); }
};

// Every rank's gradients for its own batch, computed without any sync (a reference).
torch::Tensor local_grads(Net& net, tasks::FlatParameters& flat, const torch::Tensor& x) {
  flat.zero_grad();
  net.forward(x).pow(2).mean().backward();
  return flat.grads().clone();
}

// The plain sum over ranks of each rank's own gradients, by one blocking all-reduce (the reference).
torch::Tensor summed(Communicator& comm, torch::Tensor local) {
  comm.all_reduce_sum(local);
  return local;
}

// One synchronized step: gradients of `x` through GradientSync.
void synced_backward(Net& net, tasks::FlatParameters& flat, GradientSync& sync, const torch::Tensor& x) {
  flat.zero_grad();
  sync.prepare(true);
  net.forward(x).pow(2).mean().backward();
  sync.finish();
}

// Every rank must end with the same bits, or the replicas drift apart.
void expect_identical_on_all_ranks(Communicator& comm, const torch::Tensor& t, const std::string& what) {
  torch::Tensor gathered = comm.all_gather(t.unsqueeze(0));
  for (int r = 1; r < comm.size(); ++r) EXPECT_TRUE(torch::equal(gathered[r], gathered[0])) << what;
}

TEST_F(Comm, GradientSyncSumsInSmallBuckets) {
  torch::manual_seed(1);
  Net net;
  tasks::FlatParameters flat(net);
  GradientSyncOptions options;
  options.bucket_mb = 0.01;        // ~2.6k floats: several buckets
  options.first_bucket_mb = 0.001;
  GradientSync sync(flat, comm, options);
  ASSERT_GE(sync.buckets().size(), 3u);
  // Buckets tile the flat buffer from its end, without gaps.
  int64_t end = flat.numel();
  for (const auto& b : sync.buckets()) {
    EXPECT_EQ(b.offset + b.numel, end);
    end = b.offset;
  }
  EXPECT_EQ(end, 0);

  torch::manual_seed(100 + rank);
  torch::Tensor x = torch::randn({8, 32});
  torch::Tensor expected = summed(comm, local_grads(net, flat, x));
  synced_backward(net, flat, sync, x);
  EXPECT_TRUE(torch::allclose(flat.grads(), expected, 1e-6, 1e-7));
  expect_identical_on_all_ranks(comm, flat.grads(), "float32 buckets");
}

TEST_F(Comm, AccumulationCommunicatesOnlyOnTheLastMicroStep) {
  torch::manual_seed(2);
  Net net;
  tasks::FlatParameters flat(net);
  GradientSync sync(flat, comm, {});
  torch::manual_seed(200 + rank);
  torch::Tensor x1 = torch::randn({4, 32}), x2 = torch::randn({4, 32});
  torch::Tensor g1 = local_grads(net, flat, x1), g2 = local_grads(net, flat, x2);

  flat.zero_grad();
  sync.prepare(false);
  net.forward(x1).pow(2).mean().backward();
  sync.finish();
  EXPECT_TRUE(torch::allclose(flat.grads(), g1)) << "a non-final micro-step must leave local gradients alone";
  sync.prepare(true);
  net.forward(x2).pow(2).mean().backward();
  sync.finish();
  torch::Tensor expected = summed(comm, g1 + g2);
  EXPECT_TRUE(torch::allclose(flat.grads(), expected, 1e-5, 1e-6));
}

TEST_F(Comm, CompressedGradientsAreCloseAndIdentical) {
  for (const char* wire : {"bf16", "fp16"}) {
    torch::manual_seed(3);
    Net net;
    tasks::FlatParameters flat(net);
    GradientSyncOptions options;
    options.compression = wire;
    GradientSync sync(flat, comm, options);
    torch::manual_seed(300 + rank);
    torch::Tensor x = torch::randn({8, 32});
    torch::Tensor expected = summed(comm, local_grads(net, flat, x));
    synced_backward(net, flat, sync, x);
    const double scale = expected.abs().max().item<double>();
    EXPECT_LT((flat.grads() - expected).abs().max().item<double>(), 1e-2 * scale) << wire;
    expect_identical_on_all_ranks(comm, flat.grads(), wire);
  }
}

TEST_F(Comm, UnknownCompressionIsAUsageError) {
  torch::manual_seed(4);
  Net net;
  tasks::FlatParameters flat(net);
  GradientSyncOptions options;
  options.compression = "int4";
  EXPECT_ANY_THROW(GradientSync(flat, comm, options));
}

// SimCLR over ranks: each rank's NT-Xent against every rank's embeddings (gather_with_grad), its loss
// scaled by 1 / ranks, gives each rank exactly the gradient of the loss over the global batch that one
// process holding every rank's embeddings computes.
TEST_F(Comm, GatherWithGradGivesTheGlobalBatchGradient) {
  const int64_t rows = 6, dim = 5;  // two views of 3 images per rank
  std::vector<torch::Tensor> every;  // every rank's embeddings, made alike on each rank
  for (int r = 0; r < size; ++r) {
    torch::manual_seed(100 + r);
    every.push_back(torch::nn::functional::normalize(torch::randn({rows, dim}),
                                                     torch::nn::functional::NormalizeFuncOptions().dim(1)));
  }
  const double temperature = 0.5;
  // One process, the global batch: every rank's rows, each paired with its other view in its rank's block.
  torch::Tensor global = torch::cat(every).requires_grad_(true);
  auto [all_logits, unused] = tasks::nt_xent_logits(global, temperature);
  torch::Tensor i = torch::arange(size * rows);
  torch::Tensor partners = i - i % rows + (i % rows + rows / 2) % rows;
  torch::Tensor global_loss = torch::nn::functional::cross_entropy(all_logits, partners);
  global_loss.backward();
  const torch::Tensor want = global.grad().narrow(0, rank * rows, rows);
  // This rank: its rows against the gathered ones.
  torch::Tensor mine = every[static_cast<size_t>(rank)].clone().requires_grad_(true);
  torch::Tensor gathered = tasks::gather_with_grad(comm, mine);
  ASSERT_TRUE(torch::equal(gathered.detach(), global.detach()));
  auto [logits, targets] = tasks::nt_xent_logits(mine, gathered, rank * rows, temperature);
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, targets);
  (loss / static_cast<double>(size)).backward();
  EXPECT_TRUE(torch::allclose(mine.grad(), want, 1e-5, 1e-6)) << mine.grad() << want;
  torch::Tensor mean = loss.detach().reshape({1}) / static_cast<double>(size);
  comm.all_reduce_sum(mean);
  EXPECT_NEAR(mean.item<double>(), global_loss.item<double>(), 1e-5);
}

TEST_F(Comm, GatherRowsTakesEveryRanksRowsWhateverTheirCount) {
  // Rank r holds r + 2 rows of width 3, row j filled with 10 r + j; rank 1 of 2 also an empty part below.
  torch::Tensor mine = (torch::arange(rank + 2, torch::kFloat32) + 10.0 * rank).unsqueeze(1).repeat({1, 3});
  torch::Tensor all = gather_rows(comm, mine);
  std::vector<float> want;
  for (int r = 0; r < size; ++r) {
    for (int j = 0; j < r + 2; ++j) want.push_back(10.0f * r + j);
  }
  ASSERT_EQ(all.size(0), static_cast<int64_t>(want.size()));
  EXPECT_TRUE(torch::equal(all, torch::tensor(want).unsqueeze(1).repeat({1, 3})));
  torch::Tensor some = rank == size - 1 && size > 1 ? torch::zeros({0, 3}) : torch::ones({2, 3});
  EXPECT_EQ(gather_rows(comm, some).size(0), 2 * (size > 1 ? size - 1 : 1));
}

}  // namespace
}  // namespace strike::worker

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto comm = strike::worker::make_communicator(&argc, &argv, /*cuda=*/false);
  strike::worker::g_comm = comm.get();
  // Every rank runs every test in the same order (the collectives must match) and reports.
  int failed = RUN_ALL_TESTS();
  // One verdict for the job: a failure on any rank fails it.
  torch::Tensor flag = torch::tensor({static_cast<int64_t>(failed != 0)}, torch::kInt64);
  comm->all_reduce_sum(flag);
  return flag.item<int64_t>() > 0 ? 1 : 0;
}
