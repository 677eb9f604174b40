// Radix selection of the middle order statistic(s) on order-preserving 64-bit keys of doubles.
#include "dataset_tools/exact_median.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "core/error.h"

namespace strike::data {

namespace {

// Sign, exponent and 4 mantissa bits: for most data one range then holds few enough values to keep in
// the second pass, which is then the last.
constexpr int kFirstDigitBits = 16;
constexpr int kDigitBits = 13;  // 16 + 4 * 13 >= 64: a fifth pass at most pins the key down
constexpr uint64_t kSign = uint64_t{1} << 63;

// Unsigned keys in the order of the values; -0 takes +0's key so that equal values share one.
uint64_t key_of(double value) {
  if (value == 0) value = 0.0;
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits & kSign ? ~bits : bits | kSign;
}

double value_of(uint64_t key) {
  const uint64_t bits = key & kSign ? key & ~kSign : ~key;
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

int digit_bits(int known) { return known == 0 ? kFirstDigitBits : std::min(kDigitBits, 64 - known); }

bool in_range(uint64_t key, uint64_t prefix, int known) { return known == 0 || key >> (64 - known) == prefix; }

}  // namespace

ExactMedian::ExactMedian(int64_t max_values) : max_values_(std::max<int64_t>(1, max_values)), targets_(1) {
  prepare_pass();  // the first pass counts every value by its first digit
}

void ExactMedian::add(double value) {
  if (passes_ == 0) ++count_;
  const uint64_t key = key_of(value);
  const size_t active = shared_ ? 1 : targets_.size();
  for (size_t i = 0; i < active; ++i) {
    Target& t = targets_[i];
    if (t.found || !in_range(key, t.prefix, t.known)) continue;
    if (t.collect) {
      t.values.push_back(value == 0 ? 0.0 : value);
      continue;
    }
    const int bits = digit_bits(t.known);
    ++t.counts[(key >> (64 - t.known - bits)) & ((uint64_t{1} << bits) - 1)];
    t.low = std::min(t.low, key);
    t.high = std::max(t.high, key);
  }
}

bool ExactMedian::end_pass() {
  if (done_) return true;
  if (passes_++ == 0) {
    if (count_ == 0) return done_ = true;
    // The counts of the first pass serve both middle ranks (one when the count is odd).
    Target all = std::move(targets_[0]);
    const int64_t lower = (count_ - 1) / 2, upper = count_ / 2;
    targets_.assign(lower == upper ? 1 : 2, Target{});
    targets_[0].rank = lower;
    if (lower != upper) targets_[1].rank = upper;
    for (Target& t : targets_) {
      t.in_range = count_;
      narrow(t, all);
    }
  } else {
    // The second target reads the first one's data when they shared it, so it goes first.
    for (size_t i = targets_.size(); i-- > 0;) {
      if (!targets_[i].found) narrow(targets_[i], shared_ && i == 1 ? targets_[0] : targets_[i]);
    }
  }
  done_ = std::all_of(targets_.begin(), targets_.end(), [](const Target& t) { return t.found; });
  if (!done_) prepare_pass();
  return done_;
}

void ExactMedian::narrow(Target& t, const Target& data) {
  int64_t seen = static_cast<int64_t>(data.values.size());
  if (!data.collect) seen = std::accumulate(data.counts.begin(), data.counts.end(), int64_t{0});
  if (seen != t.in_range) {
    throw Error("the numbers changed between two passes over them (" + std::to_string(seen) + " in range, " +
                    std::to_string(t.in_range) + " before)",
                "", "convert a file nobody writes to");
  }
  if (data.collect) {
    // `data.values` is only reordered, and the shared second target reads it first.
    auto& values = const_cast<std::vector<double>&>(data.values);
    std::nth_element(values.begin(), values.begin() + t.rank, values.end());
    t.value = values[static_cast<size_t>(t.rank)];
    t.found = true;
    return;
  }
  if (data.low == data.high) {  // every value in range is the same: that is the one sought
    t.value = value_of(data.low);
    t.found = true;
    return;
  }
  int64_t before = 0;
  size_t digit = 0;
  while (before + data.counts[digit] <= t.rank) before += data.counts[digit++];
  const int bits = digit_bits(t.known);
  t.prefix = t.known == 0 ? digit : (t.prefix << bits) | digit;
  t.known += bits;
  t.rank -= before;
  t.in_range = data.counts[digit];
  if (t.known == 64) {
    t.value = value_of(t.prefix);
    t.found = true;
  }
}

void ExactMedian::prepare_pass() {
  shared_ = targets_.size() == 2 && targets_[0].known == targets_[1].known && targets_[0].prefix == targets_[1].prefix;
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    std::vector<int64_t>().swap(t.counts);
    std::vector<double>().swap(t.values);
    t.low = ~uint64_t{0};
    t.high = 0;
    if (t.found || (shared_ && i == 1)) continue;
    t.collect = t.known > 0 && t.in_range <= max_values_;
    if (t.collect) {
      t.values.reserve(static_cast<size_t>(t.in_range));
    } else {
      t.counts.assign(size_t{1} << digit_bits(t.known), 0);
    }
  }
  if (shared_) targets_[1].collect = targets_[0].collect;
}

double ExactMedian::median() const {
  if (count_ == 0) return 0.0;
  if (targets_.size() == 1) return targets_[0].value;
  return (targets_[0].value + targets_[1].value) / 2;
}

}  // namespace strike::data
