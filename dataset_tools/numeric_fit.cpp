// The block sums of BlockMoments and the passes of NumericFit.
#include "dataset_tools/numeric_fit.h"

#include <cmath>

namespace strike::data {

void BlockMoments::add(double value) {
  block_.push_back(value);
  if (static_cast<int64_t>(block_.size()) == kBlock) finish();
}

void BlockMoments::finish() {
  if (block_.empty()) return;
  const double n = static_cast<double>(block_.size());
  double sum = 0;
  for (double v : block_) sum += v;
  const double mean = sum / n;
  double squares = 0;
  for (double v : block_) squares += (v - mean) * (v - mean);
  if (count_ == 0) {
    mean_ = mean;
    squares_ = squares;
  } else {
    const double before = static_cast<double>(count_), total = before + n;
    const double delta = mean - mean_;
    mean_ += delta * (n / total);
    squares_ += squares + delta * delta * (before * n / total);
  }
  count_ += static_cast<int64_t>(block_.size());
  block_.clear();
}

void NumericFit::add(double value) {
  if (passes_ == 0) moments_.add(value);
  if (!median_.done()) median_.add(value);
}

bool NumericFit::end_pass() {
  if (passes_ == 0) moments_.finish();
  ++passes_;
  if (!median_.done()) median_.end_pass();
  return done();
}

void NumericFit::apply(ColumnSchema& column) const {
  column.median = median_.median();
  column.mean = moments_.mean();
  column.std = 1;
  if (moments_.count() > 0) {
    column.std = std::sqrt(moments_.squares() / static_cast<double>(moments_.count()));  // population std
    if (!(column.std > 0)) column.std = 1;  // a constant column stays constant instead of dividing by zero
  }
}

}  // namespace strike::data
