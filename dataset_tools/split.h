// Seeded, stratified splitting of labelled samples into train / val / test index sets.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace strike::data {

struct SplitIndices {
  std::vector<int64_t> train, val, test;  // indices into the labels, each sorted ascending
};

// Carves `val_fraction` and `test_fraction` out of every class separately, so each part keeps the
// class proportions. Per class, a part gets floor or ceil of fraction * class size, chosen so the
// part's total is round(fraction * N) (largest remainder). The result is a pure function of
// (labels, fractions, seed): the same on every machine and standard library.
// Labels must be in [0, num_classes); fractions in [0, 1) with val + test < 1.
SplitIndices stratified_split(const std::vector<int64_t>& labels, int64_t num_classes, double val_fraction,
                              double test_fraction, uint64_t seed);

constexpr uint64_t kSplitOrderStream = 0x6f72646572;  // "order": the within-split shuffle's own stream

// Puts the rows of split number `split_index` (0 train, 1 val, 2 test) in the order the shards store them:
// shuffled, so every shard mixes all classes, the same way for every kind of source.
template <typename T>
void shuffle_split(std::vector<T>& rows, uint64_t seed, size_t split_index) {
  core::Rng rng(core::derive_seed({seed, kSplitOrderStream, split_index}));
  core::shuffle(rows, rng);
}

}  // namespace strike::data
