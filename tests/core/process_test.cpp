// Child processes: captured output (separate or merged), PATH lookup, process groups, closed descriptors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "core/process.h"

namespace strike::core {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return text;
}

TEST(Spawn, CapturesOutputSeparatelyOrMergedAndReturnsTheExitCode) {
  const std::vector<std::string> argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
  Child child;
  SpawnOptions separate;
  separate.output = SpawnOptions::Output::kSeparate;
  ASSERT_EQ(spawn(argv, separate, child), 0);
  EXPECT_EQ(read_all(child.out_fd), "out\n");
  EXPECT_EQ(read_all(child.err_fd), "err\n");
  EXPECT_EQ(wait_for_exit(child.pid), 3);

  SpawnOptions merged;
  merged.output = SpawnOptions::Output::kMerged;
  Child both;
  ASSERT_EQ(spawn(argv, merged, both), 0);
  EXPECT_EQ(both.err_fd, -1);
  EXPECT_EQ(read_all(both.out_fd), "out\nerr\n");
  EXPECT_EQ(wait_for_exit(both.pid), 3);

  Child killed;
  ASSERT_EQ(spawn({"/bin/sh", "-c", "kill -9 $$"}, SpawnOptions{}, killed), 0);
  EXPECT_EQ(wait_for_exit(killed.pid), 128 + 9);
}

TEST(Spawn, LooksUpThePathOnlyWhenAskedAndSaysWhyAProgramDidNotStart) {
  Child child;
  EXPECT_NE(spawn({"sh", "-c", "exit 0"}, SpawnOptions{}, child), 0);  // no ./sh here
  SpawnOptions on_path;
  on_path.search_path = true;
  ASSERT_EQ(spawn({"sh", "-c", "exit 0"}, on_path, child), 0);
  EXPECT_EQ(wait_for_exit(child.pid), 0);
  on_path.output = SpawnOptions::Output::kMerged;
  EXPECT_EQ(spawn({"strike-no-such-program"}, on_path, child), ENOENT);
}

TEST(Spawn, TheChildGetsItsOwnGroupAndNoneOfOurDescriptors) {
  const int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec
  ASSERT_GE(leaked, 3);
  SpawnOptions options;
  options.output = SpawnOptions::Output::kMerged;
  options.own_process_group = true;
  Child child;
  ASSERT_EQ(spawn({"/bin/sh", "-c", "ls /proc/$$/fd; cut -d' ' -f5 /proc/$$/stat"}, options, child), 0);
  const std::string out = read_all(child.out_fd);
  EXPECT_EQ(wait_for_exit(child.pid), 0);
  EXPECT_EQ(out.find("\n" + std::to_string(leaked) + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find(std::to_string(child.pid)), std::string::npos) << "its own group: " << out;
  ::close(leaked);
}

}  // namespace
}  // namespace strike::core
