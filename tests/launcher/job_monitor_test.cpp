// Tests of the job monitor: rank bookkeeping, every fault and its words, precedence, and the snapshot, on fake times.
#include <gtest/gtest.h>

#include "launcher/coord/job_monitor.h"

namespace strike::launcher {
namespace {

using core::wire::Message;
using core::wire::MessageType;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Far from the clock's epoch, so no fake time looks like "never".
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1000);

MonitorOptions options() {
  MonitorOptions o;
  o.stall_seconds = 60;
  o.heartbeat_seconds = 10;
  o.connect_seconds = 300;
  return o;
}

Message hello(int rank, int world, const std::string& host = "h", int64_t pid = 100) {
  Message m;
  m.type = MessageType::kHello;
  m.rank = rank;
  m.world = world;
  m.host = host;
  m.pid = pid;
  m.device = "cpu";
  return m;
}

Message at(MessageType type, const std::string& phase, int64_t epoch, int64_t phase_step, int64_t phase_steps,
           int64_t work) {
  Message m;
  m.type = type;
  m.phase = phase;
  m.epoch = epoch;
  m.epochs = 5;
  m.phase_step = phase_step;
  m.phase_steps = phase_steps;
  m.step = phase_step;
  m.work = work;
  return m;
}

Message heartbeat(const std::string& phase, int64_t epoch, int64_t phase_step, int64_t phase_steps, int64_t work) {
  return at(MessageType::kHeartbeat, phase, epoch, phase_step, phase_steps, work);
}

Message progress(int64_t phase_step, int64_t phase_steps, int64_t work, double samples_per_sec, double loss = 0) {
  Message m = at(MessageType::kProgress, "train", 1, phase_step, phase_steps, work);
  m.samples_per_sec = samples_per_sec;
  m.loss = loss;
  m.metric = loss / 10;
  m.lr = 0.1;
  return m;
}

Message error_text(const std::string& text) {
  Message m;
  m.type = MessageType::kError;
  m.text = text;
  return m;
}

Message done(int code) {
  Message m;
  m.type = MessageType::kDone;
  m.code = code;
  return m;
}

// Connects ranks 0..count-1 on connections 10+rank at time `when`.
void connect_all(JobMonitor& m, int count, Clock::time_point when) {
  int world = static_cast<int>(m.ranks().size());
  for (int r = 0; r < count; ++r) {
    EXPECT_EQ(m.on_message(10 + r, hello(r, world, "h" + std::to_string(r), 4240 + r), when), r);
  }
}

TEST(JobMonitor, HelloBindsAConnectionToItsRank) {
  JobMonitor m(2, options(), kT0);
  EXPECT_EQ(m.on_message(7, hello(1, 2, "node1", 4242), kT0 + seconds(1)), 1);
  const RankStatus& r = m.ranks()[1];
  EXPECT_TRUE(r.connected);
  EXPECT_EQ(r.host, "node1");
  EXPECT_EQ(r.pid, 4242);
  EXPECT_EQ(r.device, "cpu");
  EXPECT_EQ(r.last_heard, kT0 + seconds(1));
  EXPECT_EQ(r.last_moved, kT0 + seconds(1));
  EXPECT_EQ(m.on_message(7, heartbeat("train", 1, 3, 10, 3), kT0 + seconds(2)), 1);
  EXPECT_EQ(m.ranks()[1].position.work, 3);
  EXPECT_FALSE(m.ranks()[0].connected);
}

TEST(JobMonitor, IgnoresMessagesItCannotPlace) {
  JobMonitor m(2, options(), kT0);
  // No hello yet on this connection.
  EXPECT_EQ(m.on_message(1, heartbeat("train", 1, 1, 10, 1), kT0), -1);
  // Rank outside the world, or a different world.
  EXPECT_EQ(m.on_message(1, hello(2, 2), kT0), -1);
  EXPECT_EQ(m.on_message(1, hello(-1, 2), kT0), -1);
  EXPECT_EQ(m.on_message(1, hello(0, 3), kT0), -1);
  EXPECT_EQ(m.on_message(1, heartbeat("train", 1, 1, 10, 1), kT0), -1);
  // A second connection claiming a connected rank is ignored, and so is its traffic.
  EXPECT_EQ(m.on_message(1, hello(0, 2, "a", 1), kT0), 0);
  EXPECT_EQ(m.on_message(2, hello(0, 2, "b", 2), kT0), -1);
  EXPECT_EQ(m.on_message(2, heartbeat("train", 1, 5, 10, 5), kT0), -1);
  EXPECT_EQ(m.ranks()[0].host, "a");
  EXPECT_EQ(m.ranks()[0].position.work, 0);
  // A second hello on a bound connection does not rebind it.
  EXPECT_EQ(m.on_message(1, hello(1, 2, "a", 1), kT0), -1);
  EXPECT_FALSE(m.ranks()[1].connected);
  // Closing a connection that never said hello changes nothing.
  m.on_close(2, kT0);
  m.on_close(99, kT0);
  EXPECT_TRUE(m.ranks()[0].connected);
  EXPECT_FALSE(m.fault(kT0 + seconds(1)).has_value());
}

TEST(JobMonitor, PositionMessagesUpdateWhereAndWhen) {
  JobMonitor m(1, options(), kT0);
  connect_all(m, 1, kT0);
  m.on_message(10, heartbeat("train", 1, 4, 10, 4), kT0 + seconds(1));
  EXPECT_EQ(m.ranks()[0].last_moved, kT0 + seconds(1));
  // Same work: heard, not moved.
  m.on_message(10, heartbeat("train", 1, 4, 10, 4), kT0 + seconds(2));
  EXPECT_EQ(m.ranks()[0].last_heard, kT0 + seconds(2));
  EXPECT_EQ(m.ranks()[0].last_moved, kT0 + seconds(1));
  m.on_message(10, progress(6, 10, 6, 300, 1.5), kT0 + seconds(3));
  EXPECT_EQ(m.ranks()[0].last_moved, kT0 + seconds(3));
  EXPECT_EQ(m.ranks()[0].progress.loss, 1.5);
  EXPECT_EQ(m.ranks()[0].position.phase_step, 6);
  // A checkpoint event names the saved state (epochs completed, no work counter): heard, but the
  // rank's position is untouched, or the next heartbeat would look like progress.
  Message checkpoint;
  checkpoint.type = MessageType::kCheckpoint;
  checkpoint.path = "/ckpt/last.h5";
  checkpoint.epoch = 0;
  checkpoint.step = 6;
  m.on_message(10, checkpoint, kT0 + seconds(4));
  EXPECT_EQ(m.ranks()[0].position.work, 6);
  EXPECT_EQ(m.ranks()[0].position.phase, "train");
  EXPECT_EQ(m.ranks()[0].last_heard, kT0 + seconds(4));
  EXPECT_EQ(m.ranks()[0].last_moved, kT0 + seconds(3));
  EXPECT_EQ(m.ranks()[0].progress.phase_step, 6);  // progress is only the latest progress message
  m.on_message(10, error_text("out of memory"), kT0 + seconds(5));
  EXPECT_EQ(m.ranks()[0].error, "out of memory");
  EXPECT_EQ(m.ranks()[0].last_heard, kT0 + seconds(5));
}

TEST(JobMonitor, DoneWithZeroFinishesCleanly) {
  JobMonitor m(2, options(), kT0);
  connect_all(m, 2, kT0);
  EXPECT_FALSE(m.all_done());
  m.on_message(10, done(0), kT0 + seconds(1));
  EXPECT_TRUE(m.ranks()[0].finished);
  EXPECT_FALSE(m.all_done());
  m.on_close(10, kT0 + seconds(1));
  m.on_message(11, done(0), kT0 + seconds(2));
  m.on_close(11, kT0 + seconds(2));
  EXPECT_TRUE(m.all_done());
  EXPECT_FALSE(m.fault(kT0 + seconds(1000)).has_value());
}

TEST(JobMonitor, DisconnectWithoutDoneIsAFault) {
  JobMonitor m(2, options(), kT0);
  connect_all(m, 2, kT0);
  m.on_close(11, kT0 + seconds(5));
  EXPECT_FALSE(m.ranks()[1].connected);
  EXPECT_EQ(m.fault(kT0 + seconds(5)).value(),
            "rank 1 (host h1, pid 4241) disconnected without finishing: it crashed, was killed, or lost its network");
}

TEST(JobMonitor, DisconnectCarriesTheRanksError) {
  JobMonitor m(2, options(), kT0);
  connect_all(m, 2, kT0);
  m.on_message(11, error_text("cannot read shard 3"), kT0 + seconds(1));
  m.on_close(11, kT0 + seconds(2));
  EXPECT_EQ(m.fault(kT0 + seconds(2)).value(),
            "rank 1 (host h1, pid 4241) disconnected without finishing: it crashed, was killed, or lost its network: "
            "cannot read shard 3");
}

TEST(JobMonitor, NonZeroExitCodeIsAFaultEvenBeforeTheClose) {
  JobMonitor m(2, options(), kT0);
  connect_all(m, 2, kT0);
  m.on_message(11, error_text("bad config"), kT0 + seconds(1));
  m.on_message(11, done(3), kT0 + seconds(1));
  EXPECT_EQ(m.fault(kT0 + seconds(1)).value(), "rank 1 (host h1, pid 4241) failed with exit code 3: bad config");
  m.on_close(11, kT0 + seconds(2));  // no second fault for the same rank
  m.on_close(10, kT0 + seconds(3));
  EXPECT_EQ(m.fault(kT0 + seconds(3)).value(), "rank 1 (host h1, pid 4241) failed with exit code 3: bad config");
  EXPECT_FALSE(m.all_done());
}

TEST(JobMonitor, NonZeroExitCodeWithoutErrorText) {
  JobMonitor m(1, options(), kT0);
  connect_all(m, 1, kT0);
  m.on_message(10, done(2), kT0);
  EXPECT_EQ(m.fault(kT0).value(), "rank 0 (host h0, pid 4240) failed with exit code 2");
}

TEST(JobMonitor, RecordedFaultsComeOldestFirst) {
  JobMonitor m(3, options(), kT0);
  connect_all(m, 3, kT0);
  m.on_close(12, kT0 + seconds(1));
  m.on_close(10, kT0 + seconds(2));
  auto f = m.fault(kT0 + seconds(2));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->rfind("rank 2 (host h2, pid 4242) disconnected", 0), 0u) << *f;
}

TEST(JobMonitor, SilentRankIsLost) {
  JobMonitor m(2, options(), kT0);
  connect_all(m, 2, kT0);
  for (int s = 1; s <= 12; ++s) m.on_message(10, heartbeat("train", 1, s, 100, s), kT0 + seconds(s));
  m.on_message(11, heartbeat("train", 1, 1, 100, 1), kT0 + seconds(1));
  EXPECT_FALSE(m.fault(kT0 + seconds(10)).has_value());  // 9 s silent
  EXPECT_EQ(m.fault(kT0 + seconds(13)).value(),
            "rank 1 (host h1, pid 4241) has sent nothing for 12 s: it is stopped, hung, or unreachable");
}

TEST(JobMonitor, LostNamesTheLongestSilentAndTheOthers) {
  JobMonitor m(4, options(), kT0);
  connect_all(m, 4, kT0);
  m.on_message(10, heartbeat("train", 1, 1, 100, 1), kT0 + seconds(20));
  m.on_message(11, heartbeat("train", 1, 1, 100, 1), kT0 + seconds(5));
  m.on_message(13, heartbeat("train", 1, 1, 100, 1), kT0 + seconds(3));
  EXPECT_EQ(m.fault(kT0 + seconds(21)).value(),
            "rank 2 (host h2, pid 4242) has sent nothing for 21 s: it is stopped, hung, or unreachable "
            "(also silent: ranks 1,3)");
}

TEST(JobMonitor, StalledRanksAreGroupedByWhereTheyStopped) {
  JobMonitor m(4, options(), kT0);
  connect_all(m, 4, kT0);
  // Ranks 0 and 1 stop at step 1200 at t=10; rank 3 stops at 1199 at t=12; rank 2 keeps going.
  m.on_message(10, heartbeat("train", 2, 1200, 1875, 3075), kT0 + seconds(10));
  m.on_message(11, heartbeat("train", 2, 1200, 1875, 3075), kT0 + seconds(10));
  m.on_message(13, heartbeat("train", 2, 1199, 1875, 3074), kT0 + seconds(12));
  for (int s = 0; s <= 80; ++s) {
    Clock::time_point t = kT0 + seconds(s);
    // Everyone keeps heartbeating (so nobody is lost) with the work counter where it stopped.
    m.on_message(10, heartbeat("train", 2, 1200, 1875, 3075), t);
    m.on_message(11, heartbeat("train", 2, 1200, 1875, 3075), t);
    m.on_message(13, heartbeat("train", 2, 1199, 1875, 3074), t);
    m.on_message(12, heartbeat("train", 2, 1300 + s, 1875, 3175 + s), t);
  }
  EXPECT_FALSE(m.fault(kT0 + seconds(64)).has_value());
  EXPECT_EQ(m.fault(kT0 + seconds(70)).value(), "ranks 0,1 have not moved past epoch 2 train step 1200/1875 for 60 s");
  EXPECT_EQ(m.fault(kT0 + seconds(75)).value(),
            "ranks 0,1 have not moved past epoch 2 train step 1200/1875 for 65 s; "
            "rank 3 has not moved past epoch 2 train step 1199/1875 for 63 s");
}

TEST(JobMonitor, RanksThatNeverStartedAPhaseStall) {
  JobMonitor m(3, options(), kT0);
  connect_all(m, 3, kT0);
  for (int s = 0; s <= 60; s += 5) {  // rank 2 starts training at t=30, the others never do
    for (int r = 0; r < 2; ++r) m.on_message(10 + r, heartbeat("", 0, 0, 0, 0), kT0 + seconds(s));
    m.on_message(12, s < 30 ? heartbeat("", 0, 0, 0, 0) : heartbeat("train", 1, 1, 10, 1), kT0 + seconds(s));
  }
  EXPECT_EQ(m.fault(kT0 + seconds(60)).value(), "ranks 0,1 have made no progress since they connected for 60 s");
  JobMonitor one(1, options(), kT0);
  connect_all(one, 1, kT0);
  one.on_message(10, heartbeat("", 0, 0, 0, 0), kT0 + seconds(59));
  EXPECT_EQ(one.fault(kT0 + seconds(61)).value(), "rank 0 has made no progress since it connected for 61 s");
}

TEST(JobMonitor, FinishedRanksAreNeitherStalledNorLost) {
  JobMonitor m(2, options(), kT0);
  connect_all(m, 2, kT0);
  m.on_message(10, heartbeat("test", 5, 10, 10, 500), kT0 + seconds(1));
  m.on_message(10, done(0), kT0 + seconds(1));  // rank 0 finished but keeps its connection open
  for (int s = 1; s <= 200; ++s) m.on_message(11, heartbeat("test", 5, s, 1000, 490 + s), kT0 + seconds(s));
  EXPECT_FALSE(m.fault(kT0 + seconds(200)).has_value());
  EXPECT_EQ(m.snapshot(kT0 + seconds(200)).slowest_rank, 1);
}

TEST(JobMonitor, MissingRanksAtConnectDeadline) {
  JobMonitor m(4, options(), kT0);
  m.on_message(10, hello(0, 4), kT0 + seconds(1));
  m.on_message(11, hello(1, 4), kT0 + seconds(1));
  for (int s = 1; s <= 300; s += 1) {  // the connected ranks keep moving: only the missing ones are a fault
    m.on_message(10, heartbeat("train", 1, s, 1000, s), kT0 + seconds(s));
    m.on_message(11, heartbeat("train", 1, s, 1000, s), kT0 + seconds(s));
  }
  EXPECT_FALSE(m.fault(kT0 + seconds(299)).has_value());
  EXPECT_EQ(m.fault(kT0 + seconds(300)).value(),
            "ranks 2,3 have not connected after 300 s (check that they started: see their logs)");
  m.on_message(12, hello(2, 4), kT0 + seconds(300));
  EXPECT_EQ(m.fault(kT0 + seconds(300)).value(),
            "rank 3 has not connected after 300 s (check that it started: see its log)");
}

TEST(JobMonitor, FaultPrecedence) {
  MonitorOptions o = options();
  JobMonitor m(4, o, kT0);
  // Rank 3 never connects (missing), ranks 0 and 1 stall, rank 2 goes silent, then rank 0 disconnects.
  connect_all(m, 3, kT0);
  for (int s = 0; s <= 400; s += 5) {
    m.on_message(10, heartbeat("train", 1, 7, 100, 7), kT0 + seconds(s));
    m.on_message(11, heartbeat("train", 1, 7, 100, 7), kT0 + seconds(s));
    if (s <= 300) m.on_message(12, heartbeat("train", 1, s, 1000, s), kT0 + seconds(s));
  }
  Clock::time_point late = kT0 + seconds(400);
  auto f = m.fault(late);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, "rank 2 (host h2, pid 4242) has sent nothing for 100 s: it is stopped, hung, or unreachable");
  m.on_message(12, heartbeat("train", 1, 300, 1000, 300), late);  // rank 2 speaks again, still not moving
  EXPECT_EQ(m.fault(late).value(),
            "ranks 0,1 have not moved past epoch 1 train step 7/100 for 400 s; "
            "rank 2 has not moved past epoch 1 train step 300/1000 for 100 s");
  // Stalls before missing ranks; once nothing stalls, the missing rank shows.
  JobMonitor fresh(2, o, kT0);
  connect_all(fresh, 1, kT0);
  fresh.on_message(10, heartbeat("train", 1, 1, 100, 1), kT0 + seconds(299));
  EXPECT_EQ(fresh.fault(kT0 + seconds(300)).value(),
            "rank 1 has not connected after 300 s (check that it started: see its log)");
  // A disconnect beats everything.
  m.on_close(10, late);
  EXPECT_EQ(m.fault(late).value(),
            "rank 0 (host h0, pid 4240) disconnected without finishing: it crashed, was killed, or lost its network");
}

TEST(JobMonitor, SnapshotSumsThroughputAndFindsTheSlowest) {
  JobMonitor m(3, options(), kT0);
  connect_all(m, 3, kT0);
  // The train phase begins for everyone at t=1.
  for (int r = 0; r < 3; ++r) m.on_message(10 + r, heartbeat("train", 1, 0, 1000, 0), kT0 + seconds(1));
  m.on_message(10, progress(200, 1000, 200, 100, 2.5), kT0 + seconds(11));
  m.on_message(11, progress(100, 1000, 100, 60, 9.0), kT0 + seconds(11));
  m.on_message(12, progress(150, 1000, 150, 80, 9.0), kT0 + seconds(11));
  JobSnapshot s = m.snapshot(kT0 + seconds(11));
  EXPECT_EQ(s.world, 3);
  EXPECT_EQ(s.connected, 3);
  EXPECT_EQ(s.phase, "train");
  EXPECT_EQ(s.epoch, 1);
  EXPECT_EQ(s.epochs, 5);
  EXPECT_EQ(s.phase_step, 100);  // the slowest rank's
  EXPECT_EQ(s.phase_steps, 1000);
  EXPECT_DOUBLE_EQ(s.samples_per_sec, 240);
  EXPECT_DOUBLE_EQ(s.loss, 2.5);  // rank 0's
  EXPECT_DOUBLE_EQ(s.metric, 0.25);
  EXPECT_DOUBLE_EQ(s.lr, 0.1);
  // Rank 1: 100 steps in 10 s, 900 to go.
  EXPECT_NEAR(s.eta_seconds, 90, 1e-6);
  EXPECT_EQ(s.slowest_rank, 1);
}

TEST(JobMonitor, SnapshotSlowestTiesGoToLowestThroughput) {
  JobMonitor m(3, options(), kT0);
  connect_all(m, 3, kT0);
  m.on_message(10, progress(50, 100, 50, 30), kT0 + seconds(1));
  m.on_message(11, progress(50, 100, 50, 20), kT0 + seconds(1));
  m.on_message(12, progress(50, 100, 50, 25), kT0 + seconds(1));
  EXPECT_EQ(m.snapshot(kT0 + seconds(2)).slowest_rank, 1);
  // A disconnected rank is not the slowest; it no longer adds to the throughput either.
  m.on_close(11, kT0 + seconds(2));
  JobSnapshot s = m.snapshot(kT0 + seconds(2));
  EXPECT_EQ(s.slowest_rank, 2);
  EXPECT_EQ(s.connected, 2);
  EXPECT_DOUBLE_EQ(s.samples_per_sec, 55);
}

TEST(JobMonitor, SnapshotBeforeAnythingAndWithOneRank) {
  JobMonitor m(1, options(), kT0);
  JobSnapshot s = m.snapshot(kT0);
  EXPECT_EQ(s.world, 1);
  EXPECT_EQ(s.connected, 0);
  EXPECT_EQ(s.phase, "");
  EXPECT_EQ(s.eta_seconds, -1);
  EXPECT_EQ(s.slowest_rank, -1);
  connect_all(m, 1, kT0);
  m.on_message(10, heartbeat("", 0, 0, 0, 0), kT0 + seconds(1));
  EXPECT_EQ(m.snapshot(kT0 + seconds(2)).eta_seconds, -1);  // no phase, no pace
  m.on_message(10, progress(10, 40, 10, 50), kT0 + seconds(2));
  m.on_message(10, progress(20, 40, 20, 50), kT0 + seconds(4));
  s = m.snapshot(kT0 + seconds(4));
  EXPECT_EQ(s.slowest_rank, -1);
  EXPECT_EQ(s.phase_step, 20);
  EXPECT_NEAR(s.eta_seconds, 2, 1e-6);  // 20 steps in 2 s since the phase began, 20 to go
}

TEST(JobMonitor, SnapshotFollowsTheFurthestRankIntoANewPhase) {
  JobMonitor m(2, options(), kT0);
  connect_all(m, 2, kT0);
  m.on_message(10, heartbeat("train", 1, 100, 100, 100), kT0 + seconds(1));
  m.on_message(10, heartbeat("val", 1, 5, 20, 105), kT0 + seconds(2));
  m.on_message(11, heartbeat("train", 1, 98, 100, 98), kT0 + seconds(2));
  JobSnapshot s = m.snapshot(kT0 + seconds(3));
  EXPECT_EQ(s.phase, "val");
  EXPECT_EQ(s.phase_step, 5);  // only rank 0 is in that phase
  EXPECT_EQ(s.phase_steps, 20);
  EXPECT_EQ(s.slowest_rank, 1);
  // The val phase began for rank 0 at t=2: 5 steps in 1 s, 15 to go.
  EXPECT_NEAR(s.eta_seconds, 3, 1e-6);
}

TEST(JobMonitor, ShortDurationsKeepATenth) {
  MonitorOptions o;
  o.stall_seconds = 0.5;
  o.heartbeat_seconds = 100;
  JobMonitor m(1, o, kT0);
  connect_all(m, 1, kT0);
  m.on_message(10, heartbeat("train", 1, 3, 9, 3), kT0);
  EXPECT_EQ(m.fault(kT0 + milliseconds(2500)).value(), "rank 0 has not moved past epoch 1 train step 3/9 for 2.5 s");
}

}  // namespace
}  // namespace strike::launcher
