// Stratified split with largest-remainder quotas and per-class seeded shuffles.
#include "dataset_tools/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace strike::data {

namespace {

constexpr uint64_t kSplitStream = 0x73706c6974;  // "split": keeps this stream apart from others

// Per-class quotas whose total is round(fraction * N), each the floor or ceil of its exact share.
std::vector<int64_t> quotas(const std::vector<int64_t>& class_sizes, double fraction) {
  const int64_t total = std::accumulate(class_sizes.begin(), class_sizes.end(), int64_t{0});
  std::vector<int64_t> q(class_sizes.size());
  std::vector<std::pair<double, size_t>> remainders;
  int64_t assigned = 0;
  for (size_t c = 0; c < class_sizes.size(); ++c) {
    double exact = fraction * static_cast<double>(class_sizes[c]);
    q[c] = static_cast<int64_t>(std::floor(exact));
    assigned += q[c];
    if (q[c] < class_sizes[c]) remainders.push_back({exact - static_cast<double>(q[c]), c});
  }
  // Largest remainder first; ties go to the lower class index so the order never depends on sort stability.
  std::sort(remainders.begin(), remainders.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  int64_t missing = std::llround(fraction * static_cast<double>(total)) - assigned;
  for (size_t i = 0; i < remainders.size() && missing > 0; ++i, --missing) ++q[remainders[i].second];
  return q;
}

}  // namespace

SplitIndices stratified_split(const std::vector<int64_t>& labels, int64_t num_classes, double val_fraction,
                              double test_fraction, uint64_t seed) {
  if (!(val_fraction >= 0 && test_fraction >= 0 && val_fraction + test_fraction < 1)) {
    throw UsageError("split fractions must be >= 0 and sum to less than 1", "",
                     "got val " + std::to_string(val_fraction) + ", test " + std::to_string(test_fraction));
  }
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw Error("label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) + " is outside [0, " +
                  std::to_string(num_classes) + ")");
    }
    by_class[labels[i]].push_back(static_cast<int64_t>(i));
  }
  std::vector<int64_t> sizes;
  for (const auto& members : by_class) sizes.push_back(static_cast<int64_t>(members.size()));
  std::vector<int64_t> val_q = quotas(sizes, val_fraction), test_q = quotas(sizes, test_fraction);

  // Each sample's part, then the parts' members in sample order: a linear pass where sorting the
  // parts took a tenth of a large CSV conversion.
  enum Part : uint8_t { kTrain, kVal, kTest };
  std::vector<uint8_t> part(labels.size(), kTrain);
  int64_t counts[3] = {0, 0, 0};
  for (int64_t c = 0; c < num_classes; ++c) {
    std::vector<int64_t>& members = by_class[c];
    core::Rng rng(core::derive_seed({seed, kSplitStream, static_cast<uint64_t>(c)}));
    core::shuffle(members, rng);
    const int64_t n_val = std::min(val_q[c], sizes[c]);
    const int64_t n_test = std::min(test_q[c], sizes[c] - n_val);
    for (int64_t i = 0; i < n_val + n_test; ++i) part[static_cast<size_t>(members[i])] = i < n_val ? kVal : kTest;
    counts[kVal] += n_val;
    counts[kTest] += n_test;
    std::vector<int64_t>().swap(members);
  }
  counts[kTrain] = static_cast<int64_t>(labels.size()) - counts[kVal] - counts[kTest];
  SplitIndices out;
  std::vector<int64_t>* parts[3] = {&out.train, &out.val, &out.test};
  for (int p = 0; p < 3; ++p) parts[p]->reserve(static_cast<size_t>(counts[p]));
  for (size_t i = 0; i < part.size(); ++i) parts[part[i]]->push_back(static_cast<int64_t>(i));
  return out;
}

}  // namespace strike::data
