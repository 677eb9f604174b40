// ExactMedian: the exact median of numbers that can be streamed more than once, in memory that does not grow with their count.
#pragma once
#include <cstdint>
#include <vector>

namespace strike::data {

// Radix selection over repeated passes: the first pass counts the values by their top 16 bits (sign,
// exponent and the first 4 bits of the mantissa: sixteenths of a binade), each later one either narrows
// the range holding the middle value(s) by 13 more bits or, once that range holds at most `max_values`
// values, keeps them and picks the middle exactly. At most 5 passes (one when there are no values); a
// range whose values are all equal ends the search early. Memory: a histogram of 65536 counts, then two
// of 8192, and at most 2 * max_values values, whatever the count.
class ExactMedian {
 public:
  static constexpr int64_t kDefaultMaxValues = int64_t{1} << 16;
  explicit ExactMedian(int64_t max_values = kDefaultMaxValues);

  // One value of the current pass. Every pass must stream the same values, in any order; NaN is not
  // a value (leave missing ones out).
  void add(double value);
  // Ends a pass: true once the median is known, false when the values must be streamed once more.
  bool end_pass();
  bool done() const { return done_; }
  int64_t count() const { return count_; }  // values in a pass, once the first has ended
  // The middle value, or the mean of the two middle ones (as (lower + upper) / 2); 0 for no values.
  // A median of zero is +0 whichever signed zeros the values hold.
  double median() const;

 private:
  // One order statistic being searched for: the value of rank `rank` among the values whose key
  // starts with the `known` bits of `prefix` (all values while known is 0).
  struct Target {
    int64_t rank = 0;
    uint64_t prefix = 0;
    int known = 0;
    int64_t in_range = 0;           // values in that range
    bool collect = false;           // this pass keeps the range's values instead of counting its next digit
    std::vector<int64_t> counts;    // a counting pass: values by their next digit
    uint64_t low = ~uint64_t{0}, high = 0;  // a counting pass: the least and greatest key in range
    std::vector<double> values;     // a collecting pass: the range's values
    bool found = false;
    double value = 0;
  };

  void prepare_pass();  // sizes the targets' histograms or value buffers for the next pass
  void narrow(Target& target, const Target& data);  // ends `target`'s pass from `data`'s counts or values

  int64_t max_values_;
  int64_t count_ = 0;
  int passes_ = 0;
  bool done_ = false;
  bool shared_ = false;  // the second target's range is the first one's: it reuses its counts or values
  std::vector<Target> targets_;
};

}  // namespace strike::data
