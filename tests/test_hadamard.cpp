#include <gtest/gtest.h>

#include <cmath>

#include "llvq/hadamard.hpp"
#include "random.hpp"

namespace {
using llvq::RandomizedHadamard;

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

TEST(Hadamard, FwhtMatchesSylvesterMatrix) {
  const size_t n = 16;
  for (size_t k = 0; k < n; ++k) {
    std::vector<double> e(n, 0.0);
    e[k] = 1.0;
    llvq::fwht(e.data(), n);
    // Column k of the Sylvester matrix: (-1)^{popcount(i & k)}.
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(e[i], (__builtin_popcountll(i & k) & 1) ? -1.0 : 1.0);
  }
  std::vector<float> bad(12);
  EXPECT_THROW(llvq::fwht(bad.data(), 12), std::invalid_argument);
}

TEST(Hadamard, PaleyMatricesAreHadamard) {
  for (int q : {3, 7, 11, 19, 23, 43, 47}) {
    const auto h = llvq::paley_hadamard(q);
    const int n = q + 1;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        int s = 0;
        for (int k = 0; k < n; ++k) s += h[i * n + k] * h[j * n + k];
        ASSERT_EQ(s, i == j ? n : 0) << "q=" << q;
      }
  }
  EXPECT_THROW(llvq::paley_hadamard(13), std::invalid_argument);
}

// Sizes of real layers and of stories260K (64, 172), plus awkward ones.
class HadamardSizes : public ::testing::TestWithParam<size_t> {};

TEST_P(HadamardSizes, OrthogonalAndInvertible) {
  const size_t n = GetParam();
  const RandomizedHadamard q(n, 1234);
  auto x = llvq::test::gaussian(n, 1), y = llvq::test::gaussian(n, 2);
  const double xy = dot(x, y), xx = dot(x, x);
  auto qx = x, qy = y;
  q.apply(qx.data());
  q.apply(qy.data());
  EXPECT_NEAR(dot(qx, qy), xy, 1e-4 * xx);  // inner products preserved
  EXPECT_NEAR(dot(qx, qx), xx, 1e-4 * xx);
  q.apply_transpose(qx.data());
  for (size_t i = 0; i < n; ++i) EXPECT_NEAR(qx[i], x[i], 1e-4) << q.construction();
  // The same seed gives the same transform; another seed a different one.
  auto a = x, b = x, c = x;
  RandomizedHadamard(n, 1234).apply(a.data());
  q.apply(b.data());
  EXPECT_EQ(a, b);
  RandomizedHadamard(n, 99).apply(c.data());
  if (n > 1) {
    EXPECT_NE(a, c);
  }
}

// The float product for activations (both loop orders: b ≥ a and b < a) against the double
// one, both directions.
TEST_P(HadamardSizes, FloatProductWithinFloatRoundingOfTheDoubleOne) {
  const size_t n = GetParam();
  const RandomizedHadamard q(n, 77);
  const auto x = llvq::test::gaussian(n, 3);
  const double scale = std::sqrt(dot(x, x) / static_cast<double>(n));
  for (const bool transpose : {false, true}) {
    auto exact = x, fast = x;
    transpose ? q.apply_transpose(exact.data()) : q.apply(exact.data());
    transpose ? q.apply_transpose_float(fast.data()) : q.apply_float(fast.data());
    for (size_t i = 0; i < n; ++i) ASSERT_NEAR(fast[i], exact[i], 1e-5 * scale) << q.construction() << " entry " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, HadamardSizes,
                         ::testing::Values(1, 2, 24, 64, 172, 12, 20, 48, 96, 576, 1536, 4104, 11008));

TEST(Hadamard, ConstructionChoices) {
  EXPECT_EQ(RandomizedHadamard(64, 0).construction(), "H64");
  EXPECT_EQ(RandomizedHadamard(24, 0).construction(), "H2 x paley12");
  EXPECT_EQ(RandomizedHadamard(172, 0).construction(), "H4 x orth43");
  EXPECT_EQ(RandomizedHadamard(4104, 0).construction(), "H8 x orth513");
}

TEST(Hadamard, SpreadsAnOutlier) {
  // Incoherence: a single spike becomes flat (max |x_i| = 1/√n for the pure Hadamard case).
  std::vector<float> x(1024, 0.0f);
  x[17] = 1.0f;
  RandomizedHadamard(1024, 5).apply(x.data());
  for (float v : x) EXPECT_NEAR(std::fabs(v), 1.0 / 32.0, 1e-6);
}
}  // namespace
