// Per-channel mean and standard deviation of uint8 images, for the manifest's normalisation.
#pragma once
#include <cstdint>
#include <vector>

namespace strike::data {

// Accumulates exact integer sums, so the result does not depend on the order images are added
// (the converter adds them shard by shard, in shuffled order) and loses no precision.
class ChannelStats {
 public:
  explicit ChannelStats(int64_t channels);
  // Adds `count` CHW images with `plane` = height * width pixels per channel.
  void add(const uint8_t* images, int64_t count, int64_t plane);
  // Per channel, scaled to [0, 1]; the std is the population std (numpy's default, ddof=0).
  std::vector<double> mean() const;
  std::vector<double> std() const;

 private:
  std::vector<uint64_t> sum_, sum_squares_;
  uint64_t pixels_per_channel_ = 0;
};

}  // namespace strike::data
