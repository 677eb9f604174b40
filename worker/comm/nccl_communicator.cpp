// NCCL collectives on CUDA tensors; every NCCL and CUDA call is checked, and a failure names the call,
// the rank, NCCL's or CUDA's own words and the usual cause. The only file that includes nccl.h.
#include "worker/comm/nccl_communicator.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

#include "core/error.h"

namespace strike::worker {

namespace {

std::string nccl_cause(ncclResult_t result) {
  switch (result) {
    case ncclUnhandledCudaError:
      return "a CUDA call inside NCCL failed: out of GPU memory, a fault on this GPU, or a driver too old for "
             "this NCCL; rerun with NCCL_DEBUG=WARN to see which";
    case ncclSystemError:
      return "a system call or socket failed: a peer rank died, or NCCL uses the wrong network between hosts "
             "(set NCCL_SOCKET_IFNAME to the interface the hosts share, NCCL_IB_DISABLE=1 without InfiniBand); "
             "NCCL_DEBUG=INFO shows what it tried";
    case ncclInternalError:
      return "usually a peer rank that died or a network that dropped; read every rank's log "
             "(<run dir>/logs/rank-N.log) for the first error and rerun with NCCL_DEBUG=INFO";
    case ncclInvalidArgument:
      return "a bad argument to NCCL: a tensor on another GPU than this rank's, or a strike bug";
    case ncclInvalidUsage:
      return "the ranks disagree (different collectives, sizes or dtypes), or two ranks share one GPU: run at "
             "most as many ranks per host as it has GPUs, and the same command on every rank";
    case ncclRemoteError:
      return "a peer rank died or the network between hosts failed; read every rank's log for the first error";
    default:
      return "rerun with NCCL_DEBUG=INFO for NCCL's own account";
  }
}

std::string cuda_cause(cudaError_t error) {
  switch (error) {
    case cudaErrorMemoryAllocation:
      return "out of GPU memory: lower --batch-size, or look for other processes on this GPU with nvidia-smi";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
      return "no usable GPU: check nvidia-smi, the driver version and CUDA_VISIBLE_DEVICES";
    case cudaErrorInvalidDevice:
      return "that GPU index does not exist: check CUDA_VISIBLE_DEVICES and the ranks per host";
    case cudaErrorDevicesUnavailable:
      return "the GPU is busy in exclusive-process mode (another process holds it)";
    default:
      return "an earlier kernel probably failed on this GPU; rerun with CUDA_LAUNCH_BLOCKING=1 to find it";
  }
}

void check_cuda(cudaError_t error, const char* call, int rank) {
  if (error == cudaSuccess) return;
  cudaGetLastError();  // clears a non-sticky error, so the next call does not report it again
  throw Error(std::string(call) + " failed on rank " + std::to_string(rank) + ": " + cudaGetErrorName(error) + ": " +
                  cudaGetErrorString(error),
              "CUDA", cuda_cause(error));
}

void check_nccl(ncclResult_t result, const char* call, int rank, ncclComm_t comm) {
  if (result == ncclSuccess) return;
  std::string detail = ncclGetErrorString(result);
  const char* last = ncclGetLastError(comm);  // may be unrelated to this call: said as "last NCCL error"
  if (last != nullptr && *last != '\0') detail += " (last NCCL error: " + std::string(last) + ")";
  throw Error(std::string(call) + " failed on rank " + std::to_string(rank) + ": " + detail, "NCCL",
              nccl_cause(result));
}

// Throws when NCCL has seen an asynchronous failure (a peer that died, a network error): the check that
// turns an endless wait on a GPU kernel into an error.
void check_async(ncclComm_t comm, int rank) {
  ncclResult_t async = ncclSuccess;
  check_nccl(ncclCommGetAsyncError(comm, &async), "ncclCommGetAsyncError", rank, comm);
  if (async != ncclSuccess && async != ncclInProgress) check_nccl(async, "an NCCL collective", rank, comm);
}

ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kInt64: return ncclInt64;
    case torch::kInt32: return ncclInt32;
    case torch::kBFloat16: return ncclBfloat16;
    case torch::kFloat16: return ncclFloat16;
    default:
      throw Error(std::string("all-reduce of dtype ") + std::string(c10::toString(t.scalar_type())) +
                  " is not supported", "", "use float32, float64, int64, bfloat16 or float16");
  }
}

// A CUDA event without timing (the cheap kind), made on the current device.
class Event {
 public:
  explicit Event(int rank) {
    check_cuda(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreateWithFlags", rank);
  }
  ~Event() {
    // An event recorded but not reached yet is released once the GPU gets there.
    if (event_ != nullptr) cudaEventDestroy(event_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

c10::cuda::CUDAStream current_stream(int device) {
  return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device));
}

class NcclPendingReduce final : public PendingReduce {
 public:
  NcclPendingReduce(std::unique_ptr<Event> done, torch::Tensor tensor, ncclComm_t comm, int rank, int device)
      : done_(std::move(done)), tensor_(std::move(tensor)), comm_(comm), rank_(rank), device_(device) {}

  bool test() override {
    if (complete_) return true;
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    const cudaError_t state = cudaEventQuery(done_->get());
    if (state == cudaSuccess) return complete_ = true;
    if (state != cudaErrorNotReady) check_cuda(state, "cudaEventQuery(ncclAllReduce)", rank_);
    cudaGetLastError();  // cudaErrorNotReady is not an error to carry on
    check_async(comm_, rank_);
    return false;
  }

  void wait() override {
    if (complete_) return;
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    // The stream, not the host, waits: work queued after this sees the sum.
    check_cuda(cudaStreamWaitEvent(current_stream(device_).stream(), done_->get(), 0),
               "cudaStreamWaitEvent(ncclAllReduce)", rank_);
    check_async(comm_, rank_);
  }

 private:
  std::unique_ptr<Event> done_;  // recorded on the NCCL stream right after the all-reduce
  torch::Tensor tensor_;         // holds the buffer (record_stream keeps the allocator from reusing it early)
  ncclComm_t comm_;
  int rank_, device_;
  bool complete_ = false;
};

}  // namespace

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  std::optional<c10::cuda::CUDAStream> stream;  // asynchronous all-reduces run here
  std::unique_ptr<Event> ready;                 // re-recorded on the caller's stream before each of them
};

NcclCommunicator::NcclCommunicator(std::unique_ptr<Communicator> host)
    : host_(std::move(host)), nccl_(std::make_unique<State>()) {
  if (!host_) throw Error("NcclCommunicator needs a host communicator", "", "");
  const int r = host_->rank();
  int devices = 0;
  check_cuda(cudaGetDeviceCount(&devices), "cudaGetDeviceCount", r);
  if (devices <= 0) {
    throw Error("rank " + std::to_string(r) + " sees no CUDA device", "CUDA",
                "check nvidia-smi and CUDA_VISIBLE_DEVICES, or train with --device cpu");
  }
  // More ranks on a host than visible GPUs is fine where each rank sees its own GPU (Slurm's
  // --gpus-per-task sets CUDA_VISIBLE_DEVICES per rank); where two ranks land on one GPU, NCCL refuses
  // in ncclCommInitRank (ncclInvalidUsage, whose hint says so).
  device_ = host_->local_rank() % devices;
  check_cuda(cudaSetDevice(device_), "cudaSetDevice", r);
  {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    nccl_->stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/true, static_cast<c10::DeviceIndex>(device_));
    nccl_->ready = std::make_unique<Event>(r);
  }

  ncclUniqueId id;
  std::memset(&id, 0, sizeof(id));
  torch::Tensor bytes = torch::zeros({static_cast<int64_t>(sizeof(id))}, torch::kUInt8);
  if (r == 0) {
    check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId", r, nullptr);
    std::memcpy(bytes.data_ptr(), &id, sizeof(id));
  }
  host_->broadcast(bytes, 0);
  std::memcpy(&id, bytes.data_ptr(), sizeof(id));
  // Nothing after this may throw: the destructor, which frees the communicator, would not run.
  check_nccl(ncclCommInitRank(&nccl_->comm, host_->size(), id, r), "ncclCommInitRank", r, nullptr);
  int version = 0;
  ncclGetVersion(&version);
  spdlog::debug("rank {}: NCCL {} on cuda:{} ({} rank(s))", r, version, device_, host_->size());
}

NcclCommunicator::~NcclCommunicator() {
  if (!nccl_ || nccl_->comm == nullptr) return;
  ncclResult_t async = ncclSuccess;
  ncclCommGetAsyncError(nccl_->comm, &async);
  if (std::uncaught_exceptions() > 0 || (async != ncclSuccess && async != ncclInProgress)) {
    // A failed communicator, or a step cut short: peers may never join a clean shutdown.
    ncclCommAbort(nccl_->comm);
  } else {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    const ncclResult_t result = ncclCommDestroy(nccl_->comm);
    if (result != ncclSuccess) spdlog::warn("ncclCommDestroy failed: {}", ncclGetErrorString(result));
  }
  nccl_->comm = nullptr;
}

namespace {

void require_on_device(const torch::Tensor& t, int device, const char* what) {
  if (t.device().index() != device) {
    throw Error(std::string(what) + ": tensor is on " + t.device().str() + " but this rank's NCCL runs on cuda:" +
                    std::to_string(device),
                "", "move the model and batches to the rank's device (local rank % GPUs per host)");
  }
  if (!t.is_contiguous()) throw Error(std::string(what) + ": tensor must be contiguous", "", "");
}

}  // namespace

void NcclCommunicator::all_reduce_sum(torch::Tensor& tensor) {
  if (!tensor.is_cuda()) return host_->all_reduce_sum(tensor);
  require_on_device(tensor, device_, "all_reduce_sum");
  const ncclDataType_t type = nccl_type(tensor);
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  check_nccl(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type, ncclSum,
                           nccl_->comm, current_stream(device_).stream()),
             "ncclAllReduce", rank(), nccl_->comm);
}

std::unique_ptr<PendingReduce> NcclCommunicator::all_reduce_sum_async(torch::Tensor tensor) {
  if (!tensor.is_cuda()) return host_->all_reduce_sum_async(std::move(tensor));
  require_on_device(tensor, device_, "all_reduce_sum_async");
  const ncclDataType_t type = nccl_type(tensor);
  const int r = rank();
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  const cudaStream_t side = nccl_->stream->stream();
  // The NCCL stream starts after what the caller queued so far (e.g. backward writing the gradients).
  check_cuda(cudaEventRecord(nccl_->ready->get(), current_stream(device_).stream()), "cudaEventRecord", r);
  check_cuda(cudaStreamWaitEvent(side, nccl_->ready->get(), 0), "cudaStreamWaitEvent", r);
  check_nccl(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type, ncclSum,
                           nccl_->comm, side),
             "ncclAllReduce", r, nccl_->comm);
  auto done = std::make_unique<Event>(r);
  check_cuda(cudaEventRecord(done->get(), side), "cudaEventRecord", r);
  // The caching allocator must not hand this memory out again before the NCCL stream is done with it.
  tensor.record_stream(nccl_->stream->unwrap());
  return std::make_unique<NcclPendingReduce>(std::move(done), std::move(tensor), nccl_->comm, r, device_);
}

void NcclCommunicator::broadcast(torch::Tensor& tensor, int root) {
  if (!tensor.is_cuda()) return host_->broadcast(tensor, root);
  require_on_device(tensor, device_, "broadcast");
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  // Bytes: any dtype travels unchanged.
  check_nccl(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.nbytes(), ncclUint8, root, nccl_->comm,
                           current_stream(device_).stream()),
             "ncclBroadcast", rank(), nccl_->comm);
}

torch::Tensor NcclCommunicator::all_gather(const torch::Tensor& tensor) {
  if (!tensor.is_cuda()) return host_->all_gather(tensor);
  torch::Tensor in = tensor.contiguous();
  require_on_device(in, device_, "all_gather");
  std::vector<int64_t> shape = in.sizes().vec();
  if (shape.empty()) shape.push_back(1);
  shape[0] *= size();
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  torch::Tensor out = torch::empty(shape, in.options());
  check_nccl(ncclAllGather(in.data_ptr(), out.data_ptr(), in.nbytes(), ncclUint8, nccl_->comm,
                           current_stream(device_).stream()),
             "ncclAllGather", rank(), nccl_->comm);
  return out;
}

void NcclCommunicator::barrier() {
  {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    const cudaStream_t stream = current_stream(device_).stream();
    // Polls rather than cudaStreamSynchronize: a collective whose peer died never finishes, but NCCL
    // reports the failure through ncclCommGetAsyncError.
    for (;;) {
      const cudaError_t state = cudaStreamQuery(stream);
      if (state == cudaSuccess) break;
      if (state != cudaErrorNotReady) check_cuda(state, "cudaStreamQuery", rank());
      cudaGetLastError();
      check_async(nccl_->comm, rank());
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  host_->barrier();
}

void NcclCommunicator::abort(int code, const std::string& reason) {
  if (nccl_ && nccl_->comm != nullptr) {
    ncclResult_t async = ncclSuccess;
    if (ncclCommGetAsyncError(nccl_->comm, &async) == ncclSuccess && async != ncclSuccess &&
        async != ncclInProgress) {
      spdlog::error("rank {}: NCCL reported {} ({})", rank(), ncclGetErrorString(async),
                    ncclGetLastError(nccl_->comm));
    }
    // Stops this rank's NCCL kernels, so nothing here waits on a peer forever while the job goes down.
    ncclCommAbort(nccl_->comm);
    nccl_->comm = nullptr;
  }
  host_->abort(code, reason);
  std::_Exit(code);  // not reached: the wrapped communicator's abort ends the process
}

}  // namespace strike::worker
