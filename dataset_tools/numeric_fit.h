// NumericFit: a numeric column's train median, mean and std, fitted in one ordered pass (and maybe a few more for the median) in bounded memory.
#pragma once
#include <cstdint>
#include <vector>

#include "dataset_tools/exact_median.h"
#include "dataset_tools/tabular_schema.h"

namespace strike::data {

// The mean and the sum of squared deviations of values that arrive in a set order, bit for bit as
// fit_numeric computes them: exact two-pass sums over each block of kBlock values, blocks merged in
// order (Chan, Golub and LeVeque), so no value is held beyond its block and the variance is never
// negative, however far the values are from zero.
class BlockMoments {
 public:
  static constexpr int64_t kBlock = 4096;
  void add(double value);
  void finish();  // merges the last, partial block; then count(), mean() and squares() hold
  int64_t count() const { return count_; }
  double mean() const { return mean_; }
  double squares() const { return squares_; }

 private:
  std::vector<double> block_;
  int64_t count_ = 0;
  double mean_ = 0, squares_ = 0;
};

// The streaming form of fit_numeric, bit for bit: the first pass gives the moments, in the order
// fit_numeric adds them (so it must stream the values in file order); the median (ExactMedian) may want
// a few more passes, in any order.
class NumericFit {
 public:
  explicit NumericFit(int64_t median_values = ExactMedian::kDefaultMaxValues) : median_(median_values) {}

  void add(double value);  // a train value that is not missing
  bool end_pass();         // ends a pass: true once the fit is complete
  bool done() const { return median_.done() && passes_ >= 1; }
  // Sets `column`'s median, mean and std to what fit_numeric sets for the same values.
  void apply(ColumnSchema& column) const;

 private:
  int passes_ = 0;
  BlockMoments moments_;
  ExactMedian median_;
};

}  // namespace strike::data
