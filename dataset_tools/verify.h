// `strike data verify DIR`: re-checks every shard of a dataset directory against its manifest.
#pragma once
#include <string>
#include <vector>

namespace strike::data {

struct VerifyReport {
  bool ok = true;
  std::vector<std::string> problems;  // one line each, starting with the damaged file's path
};

// Checks every shard: it exists, has the recorded size and crc32 checksum, opens as HDF5, holds
// every manifest field with the right dtype and per-sample shape, has the recorded row count, and
// (for a "label" field) only labels in [0, classes). A missing or malformed manifest is a problem too.
// Never throws for damaged data: everything found is in the report.
VerifyReport verify(const std::string& dir);

}  // namespace strike::data
