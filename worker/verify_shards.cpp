// verify_shards: each rank checksums its share of the shards, then the ranks agree on the outcome.
#include "worker/verify_shards.h"

#include <algorithm>
#include <filesystem>

#include "core/checksum.h"
#include "core/error.h"

namespace strike::worker {

void verify_shards(const std::string& dir, const core::Manifest& manifest, const std::vector<std::string>& splits,
                   Communicator& comm, const std::function<void(int64_t, int64_t)>& on_checked) {
  std::vector<std::string> paths, expected;
  for (const auto& name : splits) {
    for (const auto& shard : manifest.split(name).shards) {
      if (shard.checksum.empty()) continue;
      paths.push_back((std::filesystem::path(dir) / shard.file).string());
      expected.push_back(shard.checksum);
    }
  }
  const int64_t n = static_cast<int64_t>(paths.size());
  // This rank's share in MiB, the unit of progress: one shard can take longer than the stall timeout.
  constexpr int64_t kMiB = int64_t{1} << 20;
  int64_t mine = 0;
  for (int64_t k = comm.rank(); k < n; k += comm.size()) {
    std::error_code unknown;  // an unreadable shard fails below, with its own message
    const auto bytes = std::filesystem::file_size(paths[k], unknown);
    if (!unknown) mine += (static_cast<int64_t>(bytes) + kMiB - 1) / kMiB;
  }
  // Nothing may throw between here and the all-reduce, or the other ranks would wait for this one forever.
  std::string problem, where;
  int64_t before = 0;  // MiB of this rank's earlier shards
  for (int64_t k = comm.rank(); k < n && problem.empty(); k += comm.size()) {
    try {
      int64_t shard_mib = 0;
      const std::string actual = core::file_checksum(paths[k], [&](int64_t bytes) {
        shard_mib = (bytes + kMiB - 1) / kMiB;
        if (on_checked) on_checked(std::min(before + shard_mib, mine), mine);
      });
      before += shard_mib;
      if (actual != expected[k]) {
        problem = "shard checksum " + actual + " does not match the manifest's " + expected[k];
        where = paths[k];
      }
    } catch (const std::exception& e) {
      problem = e.what();
      where = paths[k];
    }
  }
  auto failed = torch::zeros({comm.size()}, torch::kFloat64);
  failed[comm.rank()] = problem.empty() ? 0.0 : 1.0;
  comm.all_reduce_sum(failed);
  const std::string hint = "the file is damaged or was changed; run `strike data verify " + dir + "` and re-convert";
  if (!problem.empty()) throw Error(problem, where, hint);
  for (int r = 0; r < comm.size(); ++r) {
    if (failed[r].item<double>() > 0) {
      throw Error("rank " + std::to_string(r) + " found a damaged shard (its error names it)", dir, hint);
    }
  }
}

}  // namespace strike::worker
