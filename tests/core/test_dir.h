// A fresh, empty directory per test, named after the test so parallel ctest runs never collide.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/fs.h"

inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  strike::core::remove_tree(dir.string());
  std::filesystem::create_directories(dir);
  return dir;
}
