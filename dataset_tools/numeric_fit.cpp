// The sums of NumericFit, written as fit_numeric writes them so that both round alike.
#include "dataset_tools/numeric_fit.h"

#include <cmath>

namespace strike::data {

void NumericFit::add(double value) {
  if (passes_ == 0) {
    sum_ += value;
    ++count_;
  } else if (passes_ == 1) {
    squares_ += (value - mean_) * (value - mean_);
  }
  if (!median_.done()) median_.add(value);
}

bool NumericFit::end_pass() {
  if (passes_ == 0 && count_ > 0) {
    mean_ = sum_ / static_cast<double>(count_);
  } else if (passes_ == 1 && count_ > 0) {
    std_ = std::sqrt(squares_ / static_cast<double>(count_));  // population std, like the image statistics
    if (!(std_ > 0)) std_ = 1;  // a constant column stays constant instead of dividing by zero
  }
  ++passes_;
  if (!median_.done()) median_.end_pass();
  return done();
}

void NumericFit::apply(ColumnSchema& column) const {
  column.median = median_.median();
  column.mean = mean_;
  column.std = std_;
}

}  // namespace strike::data
