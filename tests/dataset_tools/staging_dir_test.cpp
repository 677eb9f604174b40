// Staging directories: a conversion's own under $TMPDIR, and the removal of those that dead conversions left.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

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

std::string host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

TEST(StagingDir, RemovesOnlyAbandonedDirectoriesOfThisHostAndUser) {
  test::TempDir root;
  ScopedTmpdir tmpdir(root.path());
  const std::string mine = "strike-csv-" + host() + "-";
  const auto make = [&](const std::string& name) {
    fs::create_directories(root / name);
    std::ofstream(root / (name + "/rows.bin")) << "staged rows";
    return root / name;
  };
  const std::string abandoned = make(mine + "4242-a1b2c3");
  // In use: its lock is held, as a running conversion holds it (here by this process, through its own open).
  const std::string in_use = make(mine + "4243-d4e5f6");
  const int held = ::open(in_use.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);
  const std::string other_host = make("strike-csv-elsewhere.example-4242-g7h8i9");
  const std::string longer_host = make(mine + "2-4242-m3n4o5");  // host "<ours>-2", not ours
  const std::string older_kind = make("strike-csv-Q1w2E3");
  const std::string other_prefix = make("strike-text-" + host() + "-4242-j0k1l2");
  std::vector<std::string> kept = {in_use, other_host, longer_host, older_kind, other_prefix};
  const std::string target = make("elsewhere");
  fs::create_directory_symlink(target, root / (mine + "4244-p6q7r8"));  // a link is never followed
  kept.push_back(target);
  if (::geteuid() == 0) {  // another user's directory: only root can make one here
    const std::string theirs = make(mine + "4245-s9t0u1");
    ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
    kept.push_back(theirs);
  }
  std::string created;
  {
    data::StagingDir dir("strike-csv");
    created = dir.path();
    EXPECT_TRUE(fs::is_directory(created));
    EXPECT_EQ(fs::path(created).parent_path(), fs::path(root.path()));
    EXPECT_EQ(fs::path(created).filename().string().rfind(mine + std::to_string(getpid()) + "-", 0), 0u) << created;
    EXPECT_EQ(fs::status(created).permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_FALSE(fs::exists(abandoned));
    for (const auto& path : kept) EXPECT_TRUE(fs::exists(path + "/rows.bin")) << path;
    // While it exists, another conversion's clean-up leaves it alone.
    data::StagingDir second("strike-csv");
    EXPECT_TRUE(fs::is_directory(created));
  }
  EXPECT_FALSE(fs::exists(created));
  ::close(held);
  data::StagingDir third("strike-csv");
  EXPECT_FALSE(fs::exists(in_use)) << "abandoned once its lock was let go";
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
