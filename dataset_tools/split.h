// Seeded, stratified splitting of labelled samples into train / val / test, and the order shards store them in.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/rng.h"

namespace strike::data {

enum class Part { kTrain = 0, kVal = 1, kTest = 2 };
const char* part_name(Part part);  // "train", "val", "test"

// Assigns samples to train / val / test as they stream past in their order, knowing only how many
// samples each class has: a conversion need not hold a label per sample. Per class, a part gets floor
// or ceil of fraction * class size, chosen so the part's total is round(fraction * N) (largest
// remainder), and which samples is uniform (sequential selection: a sample joins val with probability
// val places left / samples left in its class). A pure function of (class sizes, fractions, seed, the
// labels in order): the same on every machine and standard library.
class SplitSelector {
 public:
  // Fractions in [0, 1) with val + test < 1 (UsageError otherwise).
  SplitSelector(const std::vector<int64_t>& class_sizes, double val_fraction, double test_fraction, uint64_t seed);
  // The part of the next sample, whose label is in [0, classes); Error once a class has had more
  // samples than its size.
  Part next(int64_t label);
  int64_t total(Part part) const { return totals_[static_cast<size_t>(part)]; }  // samples the part gets

 private:
  struct Left {
    int64_t samples = 0, val = 0, test = 0;  // of the class, not yet streamed / placed
  };
  std::vector<Left> left_;
  std::vector<core::Rng> rngs_;  // per class
  int64_t totals_[3] = {0, 0, 0};
};

struct SplitIndices {
  std::vector<int64_t> train, val, test;  // indices into the labels, each sorted ascending
};

// SplitSelector over labels held in memory. Labels must be in [0, num_classes) (Error otherwise).
SplitIndices stratified_split(const std::vector<int64_t>& labels, int64_t num_classes, double val_fraction,
                              double test_fraction, uint64_t seed);

// Where the shards of split number `split_index` (0 train, 1 val, 2 test) store the split's i-th
// sample: a seeded permutation of [0, n) computed one index at a time (a Feistel network over the
// next power of four, walking the cycle back into range), so a conversion needs no table of it.
// Shuffled, so every shard mixes all classes, the same way for every kind of source.
class SplitOrder {
 public:
  SplitOrder(int64_t n, uint64_t seed, size_t split_index);
  int64_t position(int64_t i) const;
  int64_t index_at(int64_t position) const;  // the i whose position(i) it is

 private:
  uint64_t permute(uint64_t x) const;  // one pass of the network over [0, 4^half_bits_)
  uint64_t unpermute(uint64_t x) const;
  uint64_t n_;
  int half_bits_ = 1;
  uint64_t mask_ = 1;
  uint64_t keys_[4];
};

// Puts the rows of split number `split_index` in the order SplitOrder gives them.
template <typename T>
void shuffle_split(std::vector<T>& rows, uint64_t seed, size_t split_index) {
  const SplitOrder order(static_cast<int64_t>(rows.size()), seed, split_index);
  std::vector<T> placed(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) placed[static_cast<size_t>(order.position(static_cast<int64_t>(i)))] = rows[i];
  rows = std::move(placed);
}

}  // namespace strike::data
