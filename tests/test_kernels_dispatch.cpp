// Run-time ISA dispatch: level names, forcing a level (IsaScope, set_isa). The LLVQ_ISA
// environment variable and `llvq bench gemv`: cli/test_kernels_dispatch_cli.cpp.
#include <gtest/gtest.h>

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

}  // namespace
