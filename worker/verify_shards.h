// Shard checksums at the start of training, shared out over the ranks instead of repeated on each.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "worker/comm/communicator.h"

namespace strike::worker {

// Rank r checks shards r, r + size, ... of `splits` of the dataset in `dir` against the manifest. A damaged
// or unreadable shard found by any rank stops every rank with an Error: the finder's names the file, the
// others name the finder. `on_checked(done, mine)` runs after every 4 MiB read, in MiB of this rank's
// share (progress for the launcher, which would otherwise see a long verification, even of one shard,
// as a stall). Collective.
void verify_shards(const std::string& dir, const core::Manifest& manifest, const std::vector<std::string>& splits,
                   Communicator& comm, const std::function<void(int64_t, int64_t)>& on_checked = {});

}  // namespace strike::worker
