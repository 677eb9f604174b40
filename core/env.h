// Every environment variable strike reads; the README lists the same set.
#pragma once

namespace strike::env {

// Path of the strike-worker executable (default: next to `strike`).
constexpr const char* kWorkerPath = "STRIKE_WORKER";
// Directory holding the Fashion-MNIST IDX files (default: Debian's /usr/share/datasets/fashion-mnist).
constexpr const char* kFashionMnistDir = "STRIKE_FASHION_MNIST_DIR";

// Set by `strike` for every rank of a job it launches (workers started otherwise have none):
// the coordination server's "host:port", the job's token, and the heartbeat timeout in seconds
// (a rank that hears nothing from the launcher for that long stops).
constexpr const char* kCoordAddress = "STRIKE_COORD_ADDR";
constexpr const char* kCoordToken = "STRIKE_COORD_TOKEN";
constexpr const char* kCoordHeartbeatTimeout = "STRIKE_COORD_HEARTBEAT_TIMEOUT";
// Fault-injection for tests, "STEP:SECONDS": the write of the checkpoint taken at optimizer step
// STEP pauses halfway for SECONDS, so a test can kill the rank mid-write (unset: no pause).
constexpr const char* kCheckpointPause = "STRIKE_TEST_CHECKPOINT_PAUSE";

// Returns the variable's value, or `fallback` when unset or empty.
const char* get(const char* name, const char* fallback);

}  // namespace strike::env
