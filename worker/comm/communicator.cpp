// The local Communicator, and the choice of communicator for a process.
#include "worker/comm/communicator.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "core/error.h"
#include "worker/comm/mpi_communicator.h"
#ifdef STRIKE_WITH_CUDA
#include "worker/comm/nccl_communicator.h"
#endif

namespace strike::worker {

void LocalCommunicator::abort(int code, const std::string& reason) {
  spdlog::error("aborting: {}", reason);
  spdlog::default_logger()->flush();
  std::_Exit(code);
}

namespace {

// The rank an MPI launcher put in the environment: Open MPI's mpirun, PMIx (srun --mpi=pmix,
// prterun) and PMI-1/2 launchers respectively; null when no launcher started this process.
const char* launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* rank = std::getenv(name)) return rank;
  }
  return nullptr;
}

}  // namespace

bool launched_by_mpi() { return launcher_rank() != nullptr; }

void check_world_matches_slurm(int world_size) {
  const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  // Ranks that mpirun started inside an allocation carry its step's task count (one daemon per
  // node), not theirs; Open MPI's daemons mark them with OMPI_COMM_WORLD_SIZE.
  if (tasks == nullptr || std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return;
  const int expected = std::atoi(tasks);
  if (expected <= 0 || expected == world_size) return;
  throw UsageError("srun started " + std::to_string(expected) + " tasks but MPI reports a world of " +
                       std::to_string(world_size) + ": the tasks did not join one job",
                   "SLURM_STEP_NUM_TASKS=" + std::string(tasks),
                   "run srun with --mpi=pmix (check `srun --mpi=list`) and an Open MPI built with PMIx support, "
                   "or start the ranks with `strike train --launcher mpirun`");
}

std::string process_label() {
  const char* rank = launcher_rank();
  return rank ? std::string("strike-worker rank ") + rank : "strike-worker";
}

std::unique_ptr<Communicator> make_communicator(int* argc, char*** argv, bool cuda) {
  // One rank has nothing to reduce, on any device.
  if (!launched_by_mpi()) return std::make_unique<LocalCommunicator>();
  auto mpi = std::make_unique<MpiCommunicator>(argc, argv);
  if (cuda) {
#ifdef STRIKE_WITH_CUDA
    return std::make_unique<NcclCommunicator>(std::move(mpi));
#else
    throw UsageError("CUDA training needs strike built with -DSTRIKE_WITH_CUDA=ON", "", "rebuild, or train with --device cpu");
#endif
  }
  return mpi;
}

}  // namespace strike::worker
