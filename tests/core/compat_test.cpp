// The LibTorch compatibility header behaves the same on 1.13 and 2.x.
#include <gtest/gtest.h>

#include "core/compat.h"

TEST(Compat, CpuAutocastTurnsOnAndOffWithTheRequestedDtype) {
  auto a = torch::randn({4, 4});
  auto b = torch::randn({4, 4});
  strike::compat::set_autocast(c10::DeviceType::CPU, true, at::kBFloat16);
  EXPECT_TRUE(strike::compat::autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(torch::mm(a, b).scalar_type(), at::kBFloat16);
  strike::compat::set_autocast(c10::DeviceType::CPU, false, at::kBFloat16);
  strike::compat::clear_autocast_cache();
  EXPECT_FALSE(strike::compat::autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(torch::mm(a, b).scalar_type(), at::kFloat);
}
