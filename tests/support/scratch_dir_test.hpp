// A gtest fixture with a fresh scratch directory per test, for tests that check what a
// function or a command leaves behind in it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "files.hpp"

namespace llvq::test {

class ScratchDirTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_.file(name); }
  void write(const std::string& name, const std::string& text) const { write_text(path(name), text); }
  std::string read(const std::string& name) const { return read_text(path(name)); }
  // The directory holds exactly these names (no temporary file left behind).
  void expect_only(std::vector<std::string> names) const {
    std::vector<std::string> have;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) have.push_back(e.path().filename().string());
    std::sort(have.begin(), have.end());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(have, names);
  }

  const TempDir dir_{"scratch"};
};

}  // namespace llvq::test
