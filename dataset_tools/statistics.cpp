// Exact integer accumulation; 128-bit arithmetic for the variance's numerator.
#include "dataset_tools/statistics.h"

#include <cmath>

namespace strike::data {

ChannelStats::ChannelStats(int64_t channels) : sum_(channels, 0), sum_squares_(channels, 0) {}

void ChannelStats::add(const uint8_t* images, int64_t count, int64_t plane) {
  const int64_t channels = static_cast<int64_t>(sum_.size());
  for (int64_t n = 0; n < count; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const uint8_t* p = images + (n * channels + c) * plane;
      uint64_t s = 0, s2 = 0;
      for (int64_t i = 0; i < plane; ++i) {
        s += p[i];
        s2 += uint64_t{p[i]} * p[i];
      }
      sum_[c] += s;
      sum_squares_[c] += s2;
    }
  }
  pixels_per_channel_ += static_cast<uint64_t>(count * plane);
}

std::vector<double> ChannelStats::mean() const {
  std::vector<double> out;
  for (uint64_t s : sum_) out.push_back(pixels_per_channel_ ? s / (255.0 * pixels_per_channel_) : 0.0);
  return out;
}

std::vector<double> ChannelStats::std() const {
  std::vector<double> out;
  const unsigned __int128 n = pixels_per_channel_;
  for (size_t c = 0; c < sum_.size(); ++c) {
    if (n == 0) {
      out.push_back(0.0);
      continue;
    }
    // n^2 * variance = n * sum(x^2) - sum(x)^2, exact in 128 bits.
    unsigned __int128 numerator = n * sum_squares_[c] - static_cast<unsigned __int128>(sum_[c]) * sum_[c];
    double variance = static_cast<double>(numerator) / (static_cast<double>(n) * static_cast<double>(n));
    out.push_back(std::sqrt(variance) / 255.0);
  }
  return out;
}

}  // namespace strike::data
