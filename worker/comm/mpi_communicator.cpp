// MPI collectives on CPU tensors; every MPI call is checked and a failure names the call and the rank.
#include "worker/comm/mpi_communicator.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
// The C API only: the long-deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "core/error.h"

namespace strike::worker {

namespace {

int world_rank() {
  int initialized = 0, rank = -1;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

// Turns an MPI error code into an exception that says which call failed on which rank and why it
// usually happens: in a running job almost always a peer that died or a network that dropped.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(call) + " failed on rank " + std::to_string(world_rank()) + ": " + std::string(text, length),
              "MPI",
              "another rank probably died or the network between hosts failed; read every rank's log "
              "(<run dir>/logs/rank-N.log) and mpirun's output for the first error");
}

// bf16 and fp16 have no MPI datatype: they travel as 2-byte opaque units and a user op sums them in float.
template <typename T>
void sum_in_float(void* in, void* inout, int* len, MPI_Datatype*) {
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = static_cast<T>(static_cast<float>(a[i]) + static_cast<float>(b[i]));
}

void require_cpu_contiguous(const torch::Tensor& t, const char* what) {
  if (!t.device().is_cpu()) {
    throw Error(std::string(what) + ": the MPI communicator only handles CPU tensors, got one on " + t.device().str(),
                "", "CUDA tensors go through NCCL: build with -DSTRIKE_WITH_CUDA=ON");
  }
  if (!t.is_contiguous()) throw Error(std::string(what) + ": tensor must be contiguous", "", "");
}

}  // namespace

struct MpiCommunicator::Handles {
  MPI_Comm world = MPI_COMM_NULL;  // a duplicate, so strike's traffic never mixes with anyone else's
  MPI_Datatype two_bytes = MPI_DATATYPE_NULL;
  MPI_Op sum_bf16 = MPI_OP_NULL, sum_f16 = MPI_OP_NULL;
  bool finalize = false;

  // The MPI datatype and sum op for a tensor's dtype.
  std::pair<MPI_Datatype, MPI_Op> sum_of(const torch::Tensor& t) const {
    switch (t.scalar_type()) {
      case torch::kFloat32: return {MPI_FLOAT, MPI_SUM};
      case torch::kFloat64: return {MPI_DOUBLE, MPI_SUM};
      case torch::kInt64: return {MPI_INT64_T, MPI_SUM};
      case torch::kInt32: return {MPI_INT32_T, MPI_SUM};
      case torch::kBFloat16: return {two_bytes, sum_bf16};
      case torch::kFloat16: return {two_bytes, sum_f16};
      default:
        throw Error(std::string("all-reduce of dtype ") + std::string(c10::toString(t.scalar_type())) +
                    " is not supported", "", "use float32, float64, int64, bfloat16 or float16");
    }
  }
};


MpiCommunicator::MpiCommunicator(int* argc, char*** argv) : mpi_(std::make_unique<Handles>()) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    mpi_->finalize = true;
    if (provided < MPI_THREAD_SERIALIZED) {
      spdlog::debug("MPI provides thread level {} (< serialized); strike issues collectives from one thread at a time",
                    provided);
    }
  }
  // Errors come back as codes (checked below) instead of MPI aborting the job without a word.
  check(MPI_Comm_dup(MPI_COMM_WORLD, &mpi_->world), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(mpi_->world, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(mpi_->world, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(mpi_->world, &size_), "MPI_Comm_size");
  MPI_Comm host = MPI_COMM_NULL;
  check(MPI_Comm_split_type(mpi_->world, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &host), "MPI_Comm_split_type");
  check(MPI_Comm_rank(host, &local_rank_), "MPI_Comm_rank(host)");
  check(MPI_Comm_size(host, &local_size_), "MPI_Comm_size(host)");
  MPI_Comm_free(&host);
  check(MPI_Type_contiguous(2, MPI_BYTE, &mpi_->two_bytes), "MPI_Type_contiguous");
  check(MPI_Type_commit(&mpi_->two_bytes), "MPI_Type_commit");
  check(MPI_Op_create(&sum_in_float<c10::BFloat16>, 1, &mpi_->sum_bf16), "MPI_Op_create(bf16)");
  check(MPI_Op_create(&sum_in_float<c10::Half>, 1, &mpi_->sum_f16), "MPI_Op_create(fp16)");
}

MpiCommunicator::~MpiCommunicator() {
  MPI_Op_free(&mpi_->sum_bf16);
  MPI_Op_free(&mpi_->sum_f16);
  MPI_Type_free(&mpi_->two_bytes);
  MPI_Comm_free(&mpi_->world);
  if (mpi_->finalize) MPI_Finalize();
}

void MpiCommunicator::all_reduce_sum(torch::Tensor& tensor) {
  require_cpu_contiguous(tensor, "all_reduce_sum");
  auto [type, op] = mpi_->sum_of(tensor);
  check(MPI_Allreduce(MPI_IN_PLACE, tensor.data_ptr(), static_cast<int>(tensor.numel()), type, op, mpi_->world),
        "MPI_Allreduce");
}

std::unique_ptr<PendingReduce> MpiCommunicator::all_reduce_sum_async(torch::Tensor tensor) {
  // Completes before returning. Open MPI 4.1's nonblocking all-reduce (libnbc) uses algorithms that
  // reached only 35-65% of the blocking MPI_Allreduce's bandwidth on 2 ranks (bench/RESULTS.md), and
  // it moves bytes only while the caller polls: on a CPU rank the copying and summing is work for
  // the same cores that run backward, so there is nothing to overlap it with. The bucket still
  // starts the moment its last gradient is ready.
  all_reduce_sum(tensor);
  return std::make_unique<CompletedReduce>();
}

void MpiCommunicator::broadcast(torch::Tensor& tensor, int root) {
  require_cpu_contiguous(tensor, "broadcast");
  check(MPI_Bcast(tensor.data_ptr(), static_cast<int>(tensor.nbytes()), MPI_BYTE, root, mpi_->world), "MPI_Bcast");
}

torch::Tensor MpiCommunicator::all_gather(const torch::Tensor& tensor) {
  torch::Tensor in = tensor.contiguous();
  require_cpu_contiguous(in, "all_gather");
  std::vector<int64_t> shape = in.sizes().vec();
  if (shape.empty()) shape.push_back(1);
  shape[0] *= size_;
  torch::Tensor out = torch::empty(shape, in.options());
  check(MPI_Allgather(in.data_ptr(), static_cast<int>(in.nbytes()), MPI_BYTE, out.data_ptr(),
                      static_cast<int>(in.nbytes()), MPI_BYTE, mpi_->world),
        "MPI_Allgather");
  return out;
}

void MpiCommunicator::barrier() { check(MPI_Barrier(mpi_->world), "MPI_Barrier"); }

void MpiCommunicator::abort(int code, const std::string& reason) {
  spdlog::error("rank {} aborting the job: {}", rank_, reason);
  spdlog::default_logger()->flush();
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace strike::worker
