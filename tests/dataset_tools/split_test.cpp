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

}  // namespace
}  // namespace strike
