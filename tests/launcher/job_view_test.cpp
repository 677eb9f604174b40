// The launcher's plain view: a line every plain_every steps and at each phase's end, even one the updates missed.
#include <gtest/gtest.h>

#include <string>

#include "launcher/coord/job_view.h"

namespace strike::launcher {
namespace {

JobSnapshot at(const std::string& phase, int64_t epoch, int64_t step, int64_t steps) {
  JobSnapshot s;
  s.world = s.connected = 1;
  s.phase = phase;
  s.epoch = epoch;
  s.epochs = 2;
  s.phase_step = step;
  s.phase_steps = steps;
  return s;
}

std::string plain_lines(const std::vector<JobSnapshot>& updates) {
  testing::internal::CaptureStderr();
  {
    JobView view({"plain", 10});
    for (const auto& s : updates) view.update(s);
  }  // the writer thread has written everything when the view is gone
  return testing::internal::GetCapturedStderr();
}

TEST(JobView, PlainLinesAtEveryNStepsAndAtEachPhasesEnd) {
  const std::string out = plain_lines({at("train", 1, 4, 42), at("train", 1, 12, 42), at("train", 1, 15, 42),
                                       at("train", 1, 42, 42), at("val", 1, 1, 1)});
  EXPECT_EQ(out.find("step 4/42"), std::string::npos) << out;
  EXPECT_NE(out.find("train epoch 1/2 step 12/42"), std::string::npos) << out;
  EXPECT_EQ(out.find("step 15/42"), std::string::npos) << out;
  EXPECT_NE(out.find("train epoch 1/2 step 42/42"), std::string::npos) << out;
  EXPECT_NE(out.find("val epoch 1/2 step 1/1"), std::string::npos) << out;
}

// Updates come every 100 ms; a phase whose last steps fall between two of them still gets a line: the
// last state seen of it, printed once, before the next phase's.
TEST(JobView, APhaseWhoseEndTheUpdatesMissedStillGetsItsLastStateSeen) {
  const std::string out = plain_lines({at("train", 1, 3, 42), at("train", 1, 7, 42), at("val", 1, 1, 1),
                                       at("train", 2, 12, 42), at("train", 2, 41, 42), at("val", 2, 1, 1)});
  EXPECT_EQ(out.find("step 3/42"), std::string::npos) << out;
  const size_t seven = out.find("train epoch 1/2 step 7/42"), val = out.find("val epoch 1/2 step 1/1");
  ASSERT_NE(seven, std::string::npos) << out;
  ASSERT_NE(val, std::string::npos) << out;
  EXPECT_LT(seven, val) << out;
  EXPECT_NE(out.find("train epoch 2/2 step 12/42"), std::string::npos) << out;
  EXPECT_NE(out.find("train epoch 2/2 step 41/42"), std::string::npos) << out;
  EXPECT_EQ(out.find("step 7/42"), out.rfind("step 7/42")) << "printed twice: " << out;
}

}  // namespace
}  // namespace strike::launcher
