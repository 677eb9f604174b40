// Stratified split by sequential selection with largest-remainder quotas; the within-split order as a Feistel permutation.
#include "dataset_tools/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace strike::data {

namespace {

constexpr uint64_t kSplitStream = 0x73706c6974;       // "split": keeps this stream apart from others
constexpr uint64_t kSplitOrderStream = 0x6f72646572;  // "order": the within-split order's own stream

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

const char* part_name(Part part) {
  switch (part) {
    case Part::kTrain: return "train";
    case Part::kVal: return "val";
    case Part::kTest: return "test";
  }
  return "?";
}

SplitSelector::SplitSelector(const std::vector<int64_t>& class_sizes, double val_fraction, double test_fraction,
                             uint64_t seed) {
  if (!(val_fraction >= 0 && test_fraction >= 0 && val_fraction + test_fraction < 1)) {
    throw UsageError("split fractions must be >= 0 and sum to less than 1", "",
                     "got val " + std::to_string(val_fraction) + ", test " + std::to_string(test_fraction));
  }
  const std::vector<int64_t> val_q = quotas(class_sizes, val_fraction), test_q = quotas(class_sizes, test_fraction);
  for (size_t c = 0; c < class_sizes.size(); ++c) {
    Left left;
    left.samples = class_sizes[c];
    left.val = std::min(val_q[c], class_sizes[c]);
    left.test = std::min(test_q[c], class_sizes[c] - left.val);
    totals_[static_cast<size_t>(Part::kVal)] += left.val;
    totals_[static_cast<size_t>(Part::kTest)] += left.test;
    totals_[static_cast<size_t>(Part::kTrain)] += left.samples - left.val - left.test;
    left_.push_back(left);
    rngs_.emplace_back(core::derive_seed({seed, kSplitStream, static_cast<uint64_t>(c)}));
  }
}

Part SplitSelector::next(int64_t label) {
  if (label < 0 || label >= static_cast<int64_t>(left_.size())) {
    throw Error("label " + std::to_string(label) + " is outside [0, " + std::to_string(left_.size()) + ")");
  }
  Left& left = left_[static_cast<size_t>(label)];
  if (left.samples == 0) throw Error("class " + std::to_string(label) + " has more samples than were counted");
  const int64_t draw = static_cast<int64_t>(rngs_[static_cast<size_t>(label)].below(static_cast<uint64_t>(left.samples)));
  --left.samples;
  if (draw < left.val) {
    --left.val;
    return Part::kVal;
  }
  if (draw < left.val + left.test) {
    --left.test;
    return Part::kTest;
  }
  return Part::kTrain;
}

SplitIndices stratified_split(const std::vector<int64_t>& labels, int64_t num_classes, double val_fraction,
                              double test_fraction, uint64_t seed) {
  std::vector<int64_t> sizes(static_cast<size_t>(std::max<int64_t>(num_classes, 0)), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw Error("label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) + " is outside [0, " +
                  std::to_string(num_classes) + ")");
    }
    ++sizes[static_cast<size_t>(labels[i])];
  }
  SplitSelector selector(sizes, val_fraction, test_fraction, seed);
  SplitIndices out;
  std::vector<int64_t>* parts[3] = {&out.train, &out.val, &out.test};
  for (Part p : {Part::kTrain, Part::kVal, Part::kTest}) parts[static_cast<size_t>(p)]->reserve(selector.total(p));
  for (size_t i = 0; i < labels.size(); ++i) {
    parts[static_cast<size_t>(selector.next(labels[i]))]->push_back(static_cast<int64_t>(i));
  }
  return out;
}

SplitOrder::SplitOrder(int64_t n, uint64_t seed, size_t split_index) : n_(static_cast<uint64_t>(std::max<int64_t>(n, 0))) {
  while ((uint64_t{1} << (2 * half_bits_)) < n_) ++half_bits_;
  mask_ = (uint64_t{1} << half_bits_) - 1;
  for (uint64_t r = 0; r < 4; ++r) keys_[r] = core::derive_seed({seed, kSplitOrderStream, split_index, r});
}

uint64_t SplitOrder::permute(uint64_t x) const {
  uint64_t left = x >> half_bits_, right = x & mask_;
  for (uint64_t key : keys_) {
    const uint64_t next = left ^ (core::mix64(right ^ key) & mask_);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

uint64_t SplitOrder::unpermute(uint64_t x) const {
  uint64_t left = x >> half_bits_, right = x & mask_;
  for (int r = 3; r >= 0; --r) {
    const uint64_t previous = right ^ (core::mix64(left ^ keys_[r]) & mask_);
    right = left;
    left = previous;
  }
  return (left << half_bits_) | right;
}

int64_t SplitOrder::position(int64_t i) const {
  // Each step is a bijection of [0, 4^half_bits_), so following the cycle from i lands back in [0, n)
  // at a point no other index in range reaches first: a permutation of [0, n). The domain is under 4n,
  // so a few steps on average.
  uint64_t x = static_cast<uint64_t>(i);
  do {
    x = permute(x);
  } while (x >= n_);
  return static_cast<int64_t>(x);
}

int64_t SplitOrder::index_at(int64_t position) const {
  // The same cycle walked backwards: the first point in range before `position` is its index.
  uint64_t x = static_cast<uint64_t>(position);
  do {
    x = unpermute(x);
  } while (x >= n_);
  return static_cast<int64_t>(x);
}

}  // namespace strike::data
