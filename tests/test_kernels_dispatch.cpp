// Run-time ISA dispatch: level names, forcing a level (IsaScope, set_isa) and the LLVQ_ISA
// environment variable through the CLI, plus `llvq bench gemv`'s output and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "llvq/cuda_kernels.hpp"
#include "llvq/error.hpp"
#include "llvq/kernels.hpp"

namespace {

using llvq::kernels::Isa;

TEST(KernelsDispatch, LevelNamesRoundTrip) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    EXPECT_EQ(llvq::kernels::parse_isa(llvq::kernels::to_string(isa)), isa);
  EXPECT_THROW(llvq::kernels::parse_isa("sse4"), llvq::InputError);
  EXPECT_THROW(llvq::kernels::parse_isa(""), llvq::InputError);
}

TEST(KernelsDispatch, BestLevelIsSupportedAndLevelsAreNested) {
  using llvq::kernels::cpu_supports;
  EXPECT_TRUE(cpu_supports(Isa::Scalar));
  EXPECT_TRUE(cpu_supports(llvq::kernels::best_isa()));
  if (cpu_supports(Isa::Avx512)) {
    EXPECT_TRUE(cpu_supports(Isa::Avx2));
  }
  if (!cpu_supports(Isa::Avx2)) {
    EXPECT_EQ(llvq::kernels::best_isa(), Isa::Scalar);
  }
}

class ForcedLevel : public ::testing::TestWithParam<Isa> {};

TEST_P(ForcedLevel, ScopeForcesAndRestores) {
  const Isa level = GetParam();
  if (!llvq::kernels::cpu_supports(level)) GTEST_SKIP() << "CPU lacks " << llvq::kernels::to_string(level);
  const Isa before = llvq::kernels::active_isa();
  {
    llvq::kernels::IsaScope scope(level);
    EXPECT_EQ(llvq::kernels::active_isa(), level);
    // A forced level is what the drivers run: the dense baseline still computes W·x.
    const float w[6] = {1, 2, 3, 4, 5, 6}, x[3] = {1, -1, 2};
    float y[2] = {0, 0};
    llvq::kernels::gemv_f32(w, 2, 3, x, y, 1);
    EXPECT_EQ(y[0], 5.0f);
    EXPECT_EQ(y[1], 11.0f);
  }
  EXPECT_EQ(llvq::kernels::active_isa(), before);
}

TEST_P(ForcedLevel, UnsupportedLevelIsRefused) {
  const Isa level = GetParam();
  if (llvq::kernels::cpu_supports(level)) GTEST_SKIP() << "CPU supports " << llvq::kernels::to_string(level);
  EXPECT_THROW(llvq::kernels::set_isa(level), llvq::InputError);
  EXPECT_THROW(llvq::kernels::IsaScope{level}, llvq::InputError);
}

INSTANTIATE_TEST_SUITE_P(Levels, ForcedLevel, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                         [](const auto& info) { return llvq::kernels::to_string(info.param); });

struct CliRun {
  int status;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `env llvq args`, capturing stdout and stderr.
CliRun run_cli(const std::string& env, const std::string& args) {
  const auto dir = std::filesystem::temp_directory_path() / ("llvq_kernels_cli_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cmd = env + " " + std::string(LLVQ_CLI_PATH) + " " + args + " > " + (dir / "out").string() +
                          " 2> " + (dir / "err").string();
  const int status = std::system(cmd.c_str());
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "out"), slurp(dir / "err")};
  std::filesystem::remove_all(dir);
  return r;
}

const std::string kSmallBench = "bench gemv --rows 24 --cols 48 --min-seconds 0.001 --json";

TEST(KernelsDispatch, EnvironmentVariableChoosesTheLevelInTheCli) {
  for (Isa level : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    const std::string name = llvq::kernels::to_string(level);
    const CliRun r = run_cli("LLVQ_ISA=" + name, kSmallBench + " --codec e8p --codec scalar:bpw=3");
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
  const CliRun env = run_cli("LLVQ_ISA=sse4", kSmallBench + " --codec e8p");
  EXPECT_EQ(env.status, 2);
  EXPECT_NE(env.err.find("llvq: error"), std::string::npos) << env.err;
  const CliRun flag = run_cli("", kSmallBench + " --codec e8p --isa mmx");
  EXPECT_EQ(flag.status, 2);
  EXPECT_NE(flag.err.find("unknown ISA level"), std::string::npos) << flag.err;
}

TEST(KernelsDispatch, CodecsWithoutKernelsAreReportedNotFatal) {
  const CliRun r = run_cli("", kSmallBench + " --codec pvq:bpw=2 --codec e8p");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["results"].size(), 4u);
  ASSERT_EQ(j["skipped"].size(), 1u);
  EXPECT_EQ(j["skipped"][0]["reason"], "no kernels");
  const CliRun table = run_cli("", "bench gemv --rows 8 --cols 24 --min-seconds 0.001 --codec pvq:bpw=2");
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_NE(table.out.find("no kernels"), std::string::npos) << table.out;
}

TEST(KernelsDispatch, CliRejectsBadShapesAndDevices) {
  // 44 columns are not whole E8P blocks
  EXPECT_EQ(run_cli("", "bench gemv --rows 8 --cols 44 --min-seconds 0.001 --codec e8p").status, 2);
  EXPECT_NE(run_cli("", kSmallBench + " --device tpu").status, 0);
  if (!llvq::cuda::device_available()) {
    const CliRun r = run_cli("", kSmallBench + " --codec e8p --device cuda");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("llvq: error"), std::string::npos) << r.err;
  }
}

}  // namespace
