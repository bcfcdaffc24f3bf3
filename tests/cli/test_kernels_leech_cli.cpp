// `llvq bench leech-decode`: a profile row per decoding stage and kernel, and exit status 2
// for bad arguments (tests/test_kernels_leech.cpp: the Leech kernels themselves).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "llvq/kernels.hpp"

namespace llvq {
namespace {

using kernels::Isa;
using test::CommandResult;
using test::run_cli;

// JSON on stdout; the log on stderr is not checked.
const test::CommandOptions kSeparate{.stderr_to = test::Stderr::Separate};

TEST(LeechKernels, BenchCommandReportsEveryStageAndKernel) {
  const CommandResult r =
      run_cli("bench leech-decode --json --shells 5 --blocks 500 --rows 9 --cols 72 --min-seconds 0.001", kSeparate);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("profile").size(), kernels::cpu_supports(Isa::Avx2) ? 10u : 1u);
  for (const auto& p : j.at("profile")) EXPECT_GT(p.at("cumulative_ns_per_block").get<double>(), 0);
  size_t fused = 0;
  for (const auto& m : j.at("matrix")) {
    EXPECT_GT(m.at("seconds").get<double>(), 0);
    fused += m.at("kernel") == "fused gemv";
  }
  EXPECT_GE(fused, 1u);
  EXPECT_EQ(run_cli("bench leech-decode --shells 1", kSeparate).status, 2);
  EXPECT_EQ(run_cli("bench leech-decode --codec e8p --blocks 10", kSeparate).status, 2);
  EXPECT_EQ(run_cli("bench leech-decode --cols 25 --blocks 10", kSeparate).status, 2);
}

}  // namespace
}  // namespace llvq
