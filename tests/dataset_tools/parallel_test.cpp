// The cores a conversion uses and parallel_for's order of errors.
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "dataset_tools/parallel.h"

namespace strike {
namespace {

// available_cores() follows the affinity mask (as under taskset or a Slurm allocation), not the machine.
TEST(Parallel, AvailableCoresFollowTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(data::available_cores(), CPU_COUNT(&saved));
  EXPECT_LE(data::available_cores(), static_cast<int>(std::thread::hardware_concurrency()));
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  EXPECT_EQ(data::available_cores(), 1);
  EXPECT_EQ(data::decode_threads(), 1);
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
}

TEST(Parallel, EveryIndexOnceAndTheLowestErrorWins) {
  std::atomic<int64_t> sum{0};
  data::parallel_for(1000, 3, [&](int64_t i) { sum += i; });
  EXPECT_EQ(sum.load(), 999 * 1000 / 2);
  try {
    data::parallel_for(100, 2, [](int64_t i) {
      if (i == 7 || i == 60) throw std::runtime_error("at " + std::to_string(i));
    });
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "at 7");
  }
}

}  // namespace
}  // namespace strike
