// Learning-rate schedules against values printed by torch.optim.lr_scheduler (PyTorch 1.13).
#include "tasks/optim/scheduler.h"

#include "core/error.h"

#include <gtest/gtest.h>

namespace strike::tasks {
namespace {

SchedulerOptions named(const std::string& name) {
  SchedulerOptions o;
  o.name = name;
  return o;
}

TEST(Scheduler, Constant) {
  Scheduler s(named("constant"), 0.1, 100, 10);
  EXPECT_DOUBLE_EQ(s.lr(0), 0.1);
  EXPECT_DOUBLE_EQ(s.lr(99), 0.1);
}

// OneCycleLR(max_lr=0.1, total_steps=100, pct_start=0.3), lr before each optimizer step.
TEST(Scheduler, OneCycleMatchesPyTorch) {
  Scheduler s(named("onecycle"), 0.1, 100, 10);
  const std::vector<std::pair<int64_t, double>> expected = {
      {0, 0.0040000000000000036},  {1, 0.004281378056590748}, {10, 0.029516394846410082},
      {28, 0.09971862194340926},   {29, 0.1},                 {30, 0.09994965352845243},
      {31, 0.09979871550490317},   {50, 0.0793893450575732},  {98, 5.07464715475788e-05},
      {99, 4e-07}};
  for (auto [step, lr] : expected) EXPECT_NEAR(s.lr(step), lr, 1e-12 + 1e-9 * lr) << "step " << step;
  EXPECT_DOUBLE_EQ(s.lr(150), s.lr(99));  // past the end: the last value
}

// StepLR(step_size=2, gamma=0.5) stepped once per epoch; here 3 optimizer steps per epoch.
TEST(Scheduler, StepMatchesPyTorch) {
  SchedulerOptions o = named("step");
  o.step_size_epochs = 2;
  o.gamma = 0.5;
  Scheduler s(o, 0.1, 21, 3);
  const std::vector<double> per_epoch = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125};
  for (int64_t step = 0; step < 21; ++step) EXPECT_NEAR(s.lr(step), per_epoch[step / 3], 1e-15) << "step " << step;
}

// LambdaLR with (s + 1) / 5 for s < 5, then 0.1 + 0.9 * 0.5 * (1 + cos(pi * (s - 5) / 95)).
TEST(Scheduler, CosineWithWarmup) {
  SchedulerOptions o = named("cosine");
  o.warmup_steps = 5;
  o.min_lr_ratio = 0.1;
  Scheduler s(o, 0.1, 100, 10);
  const std::vector<std::pair<int64_t, double>> expected = {
      {0, 0.020000000000000004}, {4, 0.1}, {5, 0.1}, {6, 0.09997539658034167}, {50, 0.05871607054625497},
      {99, 0.010024603419658329}};
  for (auto [step, lr] : expected) EXPECT_NEAR(s.lr(step), lr, 1e-12) << "step " << step;
}

TEST(Scheduler, CosineDefaultWarmupIsFivePercent) {
  EXPECT_EQ(Scheduler(named("cosine"), 1.0, 100, 10).warmup_steps(), 5);
  EXPECT_EQ(Scheduler(named("cosine"), 1.0, 1000, 10).warmup_steps(), 50);
  SchedulerOptions none = named("cosine");
  none.warmup_steps = 0;
  Scheduler s(none, 1.0, 10, 10);
  EXPECT_DOUBLE_EQ(s.lr(0), 1.0);
  EXPECT_NEAR(s.lr(9), 0.5 * (1 + std::cos(3.14159265358979323846 * 0.9)), 1e-12);
}

TEST(Scheduler, UnknownNameAndMeta) {
  EXPECT_THROW(Scheduler(named("linear"), 0.1, 10, 10), UsageError);
  Scheduler s(named("cosine"), 0.1, 100, 10);
  EXPECT_EQ(s.meta()["name"], "cosine");
  EXPECT_EQ(s.meta()["warmup_steps"], 5);
  EXPECT_EQ(schedulers().names(), (std::vector<std::string>{"constant", "cosine", "onecycle", "step"}));
  Scheduler made = schedulers().create("step", named("step"), 0.1, 10, 10);
  EXPECT_EQ(made.name(), "step");
}

}  // namespace
}  // namespace strike::tasks
