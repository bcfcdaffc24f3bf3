// The LLVQ_ISA environment variable and `--isa` choose the kernels' level in the CLI, and
// `llvq bench gemv` reports its documented keys and refuses bad levels, shapes and devices.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"
#include "llvq/cuda_kernels.hpp"
#include "llvq/kernels.hpp"

namespace {

using llvq::kernels::Isa;
using llvq::test::CommandResult;
using llvq::test::run_cli;
using llvq::test::Stderr;

// JSON on stdout, messages on stderr: kept apart.
const llvq::test::CommandOptions kSeparate{.stderr_to = Stderr::Separate};

const std::string kSmallBench = "bench gemv --rows 24 --cols 48 --min-seconds 0.001 --json";

TEST(KernelsDispatch, EnvironmentVariableChoosesTheLevelInTheCli) {
  for (Isa level : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    const std::string name = llvq::kernels::to_string(level);
    const CommandResult r = run_cli(kSmallBench + " --codec e8p --codec scalar:bpw=3",
                                    {.env = {"LLVQ_ISA=" + name}, .stderr_to = Stderr::Separate});
    if (!llvq::kernels::cpu_supports(level)) {
      EXPECT_EQ(r.status, 2) << name;
      EXPECT_NE(r.err.find("does not support"), std::string::npos) << r.err;
      continue;
    }
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["results"].size(), 6u);  // fp32, fp16, then decode and fused GEMV per codec
    for (const auto& row : j["results"]) {
      EXPECT_EQ(row["isa"], name);
      for (const char* key : {"codec", "bpw", "seconds", "speedup_vs_fp32", "gbytes_per_s"})
        EXPECT_TRUE(row.contains(key)) << key;
      EXPECT_GT(row["seconds"].get<double>(), 0);
    }
    EXPECT_EQ(j["results"][0]["codec"], "fp32");
    EXPECT_DOUBLE_EQ(j["results"][0]["speedup_vs_fp32"].get<double>(), 1.0);
    EXPECT_EQ(j["results"][2]["codec"], "e8p:factor=0.965");
    EXPECT_DOUBLE_EQ(j["results"][2]["bpw"].get<double>(), 2.0 + 16.0 / 48);
  }
}

TEST(KernelsDispatch, CliRejectsBadLevels) {
  const CommandResult env =
      run_cli(kSmallBench + " --codec e8p", {.env = {"LLVQ_ISA=sse4"}, .stderr_to = Stderr::Separate});
  EXPECT_EQ(env.status, 2);
  EXPECT_NE(env.err.find("llvq: error"), std::string::npos) << env.err;
  const CommandResult flag = run_cli(kSmallBench + " --codec e8p --isa mmx", kSeparate);
  EXPECT_EQ(flag.status, 2);
  EXPECT_NE(flag.err.find("unknown ISA level"), std::string::npos) << flag.err;
}

TEST(KernelsDispatch, CodecsWithoutKernelsAreReportedNotFatal) {
  const CommandResult r = run_cli(kSmallBench + " --codec pvq:bpw=2 --codec e8p", kSeparate);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["results"].size(), 4u);
  ASSERT_EQ(j["skipped"].size(), 1u);
  EXPECT_EQ(j["skipped"][0]["reason"], "no kernels");
  const CommandResult table =
      run_cli("bench gemv --rows 8 --cols 24 --min-seconds 0.001 --codec pvq:bpw=2", kSeparate);
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_NE(table.out.find("no kernels"), std::string::npos) << table.out;
}

// --pool-rows: any positive count (a pool larger than the matrix is its rows), never 0.
TEST(KernelsDispatch, PoolRowsOption) {
  for (const char* pool : {"1", "5", "100"}) {
    const CommandResult r = run_cli(kSmallBench + " --codec e8p --pool-rows " + pool, kSeparate);
    ASSERT_EQ(r.status, 0) << pool << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["results"].size(), 4u) << pool;
  }
  EXPECT_EQ(run_cli(kSmallBench + " --codec e8p --pool-rows 0", kSeparate).status, 2);
  EXPECT_EQ(run_cli(kSmallBench + " --codec e8p --pool-rows -3", kSeparate).status, 2);
}

TEST(KernelsDispatch, CliRejectsBadShapesAndDevices) {
  // 44 columns are not whole E8P blocks
  EXPECT_EQ(run_cli("bench gemv --rows 8 --cols 44 --min-seconds 0.001 --codec e8p", kSeparate).status, 2);
  EXPECT_NE(run_cli(kSmallBench + " --device tpu", kSeparate).status, 0);
  if (!llvq::cuda::device_available()) {
    const CommandResult r = run_cli(kSmallBench + " --codec e8p --device cuda", kSeparate);
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("llvq: error"), std::string::npos) << r.err;
  }
}

}  // namespace
