// The main of every test binary: gtest's, plus a check that the real data the binary's tests
// read is there (see test_data.hpp). Missing data skips the binary's tests with a message,
// so that the README's test command passes on a fresh clone; with LLVQ_REQUIRE_DATA=1 (CI) it
// is an error instead, reported before any test runs (so no "skipped" line can hide it).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "test_data.hpp"

namespace {

std::optional<std::string> missing_data() {
  std::vector<std::string> files;
  const std::string needs = LLVQ_TEST_NEEDS;
  if (needs.find("data") != std::string::npos) files.push_back(llvq::test::data_file("models/stories260K/stories260K.bin"));
  if (needs.find("smollm2") != std::string::npos) files.push_back(llvq::test::smollm2_model());
  for (const std::string& f : files)
    if (!std::filesystem::is_regular_file(f))
      return "missing " + f + " (shared data: set LLVQ_DATA to its folder; SmolLM2: bash scripts/fetch-models.sh)";
  return std::nullopt;
}

class SkipAll : public testing::Environment {
 public:
  explicit SkipAll(std::string why) : why_(std::move(why)) {}
  void SetUp() override { GTEST_SKIP() << "SKIPPED (missing data): " << why_; }

 private:
  std::string why_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (!GTEST_FLAG_GET(list_tests))  // test discovery at build time needs no data
    if (const auto why = missing_data()) {
      if (llvq::test::env_or("LLVQ_REQUIRE_DATA", "0") == "1") {
        std::fprintf(stderr, "error: %s, and LLVQ_REQUIRE_DATA=1\n", why->c_str());
        return 1;
      }
      testing::AddGlobalTestEnvironment(new SkipAll(*why));
    }
  return RUN_ALL_TESTS();
}
