// verify_shards: each rank checksums its share of the shards, then the ranks agree on the outcome.
#include "worker/verify_shards.h"

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
  const int64_t mine = n > comm.rank() ? (n - comm.rank() + comm.size() - 1) / comm.size() : 0;
  // Nothing may throw between here and the all-reduce, or the other ranks would wait for this one forever.
  std::string problem, where;
  int64_t done = 0;
  for (int64_t k = comm.rank(); k < n && problem.empty(); k += comm.size()) {
    try {
      const std::string actual = core::file_checksum(paths[k]);
      if (actual != expected[k]) {
        problem = "shard checksum " + actual + " does not match the manifest's " + expected[k];
        where = paths[k];
      }
      if (on_checked) on_checked(++done, mine);
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
