// Staging directories: a conversion's own under $TMPDIR, and the removal of those that dead conversions left.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/error.h"
#include "dataset_tools/staging_dir.h"
#include "test_util.h"

namespace strike {
namespace {

namespace fs = std::filesystem;

// TMPDIR set for the test's lifetime.
class ScopedTmpdir {
 public:
  explicit ScopedTmpdir(const std::string& path) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    setenv("TMPDIR", path.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old_) {
      setenv("TMPDIR", old_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  }

 private:
  std::optional<std::string> old_;
};

pid_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

std::string host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

TEST(StagingDir, RemovesWhatDeadProcessesOfThisHostLeftAndNothingElse) {
  test::TempDir root;
  ScopedTmpdir tmpdir(root.path());
  const std::string mine = "strike-csv-" + host() + "-";
  const std::string dead = std::to_string(dead_pid());
  const auto make = [&](const std::string& name) {
    fs::create_directories(root / name);
    std::ofstream(root / (name + "/rows.bin")) << "staged rows";
    return root / name;
  };
  const std::string stale = make(mine + dead + "-a1b2c3");
  const std::string running = make(mine + std::to_string(getppid()) + "-d4e5f6");
  const std::string other_host = make("strike-csv-elsewhere.example-" + dead + "-g7h8i9");
  const std::string longer_host = make(mine + "2-" + dead + "-m3n4o5");  // host "<ours>-2", not ours
  const std::string older_kind = make("strike-csv-Q1w2E3");
  const std::string other_prefix = make("strike-text-" + host() + "-" + dead + "-j0k1l2");
  std::string created;
  {
    data::StagingDir dir("strike-csv");
    created = dir.path();
    EXPECT_TRUE(fs::is_directory(created));
    EXPECT_EQ(fs::path(created).parent_path(), fs::path(root.path()));
    EXPECT_EQ(fs::path(created).filename().string().rfind(mine + std::to_string(getpid()) + "-", 0), 0u) << created;
    EXPECT_FALSE(fs::exists(stale));
    for (const auto& kept : {running, other_host, longer_host, older_kind, other_prefix}) {
      EXPECT_TRUE(fs::exists(kept + "/rows.bin")) << kept;
    }
  }
  EXPECT_FALSE(fs::exists(created));
}

TEST(StagingDir, AnUnusableTmpdirIsAClearError) {
  ScopedTmpdir tmpdir("/nonexistent/strike-staging");
  try {
    data::StagingDir dir("strike-csv");
    ADD_FAILURE() << "created " << dir.path();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.hint()).find("TMPDIR"), std::string::npos) << e.hint();
  }
}

}  // namespace
}  // namespace strike
