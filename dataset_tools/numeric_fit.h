// NumericFit: a numeric column's train median, mean and std, fitted over repeated passes in bounded memory.
#pragma once
#include <cstdint>

#include "dataset_tools/exact_median.h"
#include "dataset_tools/tabular_schema.h"

namespace strike::data {

// The streaming form of fit_numeric, bit for bit: the first pass sums the values, the second adds
// their squared deviations from that mean, both in the order fit_numeric adds them (so the two
// passes must stream the values in one and the same order); the median (ExactMedian) may want
// a few more passes, in any order.
class NumericFit {
 public:
  explicit NumericFit(int64_t median_values = ExactMedian::kDefaultMaxValues) : median_(median_values) {}

  void add(double value);  // a train value that is not missing
  bool end_pass();         // ends a pass: true once the fit is complete
  bool done() const { return median_.done() && (passes_ >= 2 || count_ == 0); }
  double mean() const { return mean_; }
  // Sets `column`'s median, mean and std to what fit_numeric sets for the same values.
  void apply(ColumnSchema& column) const;

 private:
  int passes_ = 0;
  int64_t count_ = 0;
  double sum_ = 0, squares_ = 0, mean_ = 0, std_ = 1;
  ExactMedian median_;
};

}  // namespace strike::data
