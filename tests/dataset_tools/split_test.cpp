// Stratified split: class proportions kept, exact totals, disjoint parts, a pure function of the seed.
#include "dataset_tools/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.h"

namespace strike {
namespace {

std::vector<int64_t> labels_with_sizes(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> labels;
  // Interleaved so class membership is not a contiguous range.
  for (int64_t round = 0; round < *std::max_element(sizes.begin(), sizes.end()); ++round) {
    for (size_t c = 0; c < sizes.size(); ++c) {
      if (round < sizes[c]) labels.push_back(static_cast<int64_t>(c));
    }
  }
  return labels;
}

std::vector<int64_t> per_class(const std::vector<int64_t>& indices, const std::vector<int64_t>& labels, int64_t classes) {
  std::vector<int64_t> counts(classes, 0);
  for (int64_t i : indices) ++counts[labels[i]];
  return counts;
}

TEST(Split, KeepsClassProportions) {
  std::vector<int64_t> labels = labels_with_sizes({100, 50, 10});
  data::SplitIndices s = data::stratified_split(labels, 3, 0.2, 0.1, 42);
  EXPECT_EQ(per_class(s.val, labels, 3), (std::vector<int64_t>{20, 10, 2}));
  EXPECT_EQ(per_class(s.test, labels, 3), (std::vector<int64_t>{10, 5, 1}));
  EXPECT_EQ(per_class(s.train, labels, 3), (std::vector<int64_t>{70, 35, 7}));
}

TEST(Split, PartsAreDisjointAndCoverEverything) {
  std::vector<int64_t> labels = labels_with_sizes({37, 21, 5, 1});
  data::SplitIndices s = data::stratified_split(labels, 4, 0.15, 0.15, 3);
  std::set<int64_t> all;
  for (const auto* part : {&s.train, &s.val, &s.test}) {
    EXPECT_TRUE(std::is_sorted(part->begin(), part->end()));
    all.insert(part->begin(), part->end());
  }
  EXPECT_EQ(all.size(), labels.size());
  EXPECT_EQ(s.train.size() + s.val.size() + s.test.size(), labels.size());
  // Largest-remainder quotas make each part's total the rounded share of the whole.
  EXPECT_EQ(s.val.size(), 10u);  // round(0.15 * 64)
  EXPECT_EQ(s.test.size(), 10u);
}

TEST(Split, IsAPureFunctionOfTheSeed) {
  std::vector<int64_t> labels = labels_with_sizes({200, 200, 200});
  data::SplitIndices a = data::stratified_split(labels, 3, 0.1, 0.0, 7);
  data::SplitIndices b = data::stratified_split(labels, 3, 0.1, 0.0, 7);
  data::SplitIndices c = data::stratified_split(labels, 3, 0.1, 0.0, 8);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_NE(a.val, c.val);
  EXPECT_TRUE(a.test.empty());
  EXPECT_EQ(a.val.size(), 60u);
}

TEST(Split, RejectsBadFractionsAndLabels) {
  EXPECT_THROW(data::stratified_split({0, 1}, 2, 0.6, 0.5, 0), UsageError);
  EXPECT_THROW(data::stratified_split({0, 1}, 2, -0.1, 0.0, 0), UsageError);
  EXPECT_THROW(data::stratified_split({0, 5}, 2, 0.1, 0.0, 0), Error);
}

TEST(Split, SelectorStreamsWhatStratifiedSplitGives) {
  std::vector<int64_t> labels = labels_with_sizes({40, 25, 3});
  data::SplitIndices s = data::stratified_split(labels, 3, 0.2, 0.1, 5);
  data::SplitSelector selector({40, 25, 3}, 0.2, 0.1, 5);
  EXPECT_EQ(selector.total(data::Part::kTrain), static_cast<int64_t>(s.train.size()));
  EXPECT_EQ(selector.total(data::Part::kVal), static_cast<int64_t>(s.val.size()));
  EXPECT_EQ(selector.total(data::Part::kTest), static_cast<int64_t>(s.test.size()));
  std::vector<int64_t> val;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (selector.next(labels[i]) == data::Part::kVal) val.push_back(static_cast<int64_t>(i));
  }
  EXPECT_EQ(val, s.val);
  EXPECT_THROW(selector.next(2), Error);  // class 2 had its 3 samples
  EXPECT_THROW(selector.next(3), Error);  // no such class
}

TEST(Split, SelectionIsUniformWithinAClass) {
  // Each of 10 samples of one class should land in val (2 places) about 20% of the time over seeds.
  std::vector<int64_t> hits(10, 0);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    data::SplitSelector selector({10}, 0.2, 0.0, seed);
    for (size_t i = 0; i < 10; ++i) hits[i] += selector.next(0) == data::Part::kVal;
  }
  for (int64_t h : hits) EXPECT_NEAR(static_cast<double>(h) / 2000.0, 0.2, 0.04);
}

TEST(Split, OrderIsASeededPermutation) {
  for (int64_t n : {0, 1, 2, 3, 5, 16, 17, 1000, 4097}) {
    data::SplitOrder order(n, 11, 0);
    std::vector<bool> seen(static_cast<size_t>(n), false);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = order.position(i);
      ASSERT_GE(p, 0);
      ASSERT_LT(p, n);
      EXPECT_FALSE(seen[static_cast<size_t>(p)]) << "n " << n << ": position " << p << " taken twice";
      seen[static_cast<size_t>(p)] = true;
      // The shards of a text dataset are gathered position by position, so the walk back must be exact.
      EXPECT_EQ(order.index_at(p), i) << "n " << n;
    }
  }
  data::SplitOrder a(1000, 11, 0), b(1000, 11, 1), c(1000, 12, 0), same(1000, 11, 0);
  int64_t fixed = 0, differ_split = 0, differ_seed = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    fixed += a.position(i) == i;
    differ_split += a.position(i) != b.position(i);
    differ_seed += a.position(i) != c.position(i);
    EXPECT_EQ(a.position(i), same.position(i));
  }
  EXPECT_LT(fixed, 20);  // a shuffle, not the identity
  EXPECT_GT(differ_split, 900);
  EXPECT_GT(differ_seed, 900);
  std::vector<int> rows{0, 1, 2, 3, 4, 5, 6};
  data::shuffle_split(rows, 11, 2);
  data::SplitOrder order(7, 11, 2);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(rows[static_cast<size_t>(order.position(i))], i);
}

}  // namespace
}  // namespace strike
