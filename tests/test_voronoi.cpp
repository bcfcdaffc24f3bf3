#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "leech_oracle.hpp"
#include "llvq/error.hpp"
#include "llvq/leech.hpp"
#include "llvq/voronoi_code.hpp"

namespace {
using llvq::VoronoiCode;
using llvq::leech::Vec;
using Index = VoronoiCode::Index;

Index random_index(std::mt19937_64& rng, const VoronoiCode& code) {
  const Index raw = (static_cast<Index>(rng()) << 64) | rng();
  return raw & (code.size() - 1);
}

bool is_zero(const Vec& v) {
  for (int32_t e : v)
    if (e != 0) return false;
  return true;
}

TEST(VoronoiCode, SizesAndBadParameters) {
  const VoronoiCode c72(72), c96(96);
  EXPECT_EQ(c72.bits(), 72);
  EXPECT_EQ(c72.order_bits(), 3);
  EXPECT_TRUE(c72.size() == static_cast<Index>(1) << 72);
  EXPECT_EQ(c96.order_bits(), 4);
  EXPECT_TRUE(c96.size() == static_cast<Index>(1) << 96);
  for (int bad : {0, 24, 48, 71, 73, 120, -72}) EXPECT_THROW(VoronoiCode{bad}, llvq::InputError);
}

TEST(VoronoiCode, FirstAndLastIndex) {
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    EXPECT_TRUE(is_zero(code.unrank(0)));
    EXPECT_TRUE(code.rank(Vec{}) == 0);
    const Vec last = code.unrank(code.size() - 1);
    EXPECT_TRUE(code.contains(last));
    EXPECT_TRUE(code.rank(last) == code.size() - 1);
  }
}

TEST(VoronoiCode, RejectsOutOfRangeAndNonCodebookPoints) {
  const VoronoiCode code(72);
  EXPECT_THROW(code.unrank(code.size()), llvq::InputError);
  EXPECT_THROW(code.unrank(~static_cast<Index>(0)), llvq::InputError);
  Vec not_lattice{};
  not_lattice[0] = 4;
  EXPECT_FALSE(code.contains(not_lattice));
  EXPECT_THROW(code.rank(not_lattice), llvq::InputError);
  EXPECT_THROW(code.representative(not_lattice), llvq::InputError);
  Vec far{};  // 8·(4, 4, 0²²) ∈ 8J: the coset of 0, far outside the codebook
  far[0] = far[1] = 32;
  EXPECT_TRUE(llvq::leech::is_member(far));
  EXPECT_FALSE(code.contains(far));
  EXPECT_THROW(code.rank(far), llvq::InputError);
  EXPECT_TRUE(is_zero(code.representative(far)));
  Vec huge{};
  huge[0] = huge[1] = 1 << 29;
  EXPECT_FALSE(code.contains(huge));
  float x[24] = {};
  EXPECT_THROW(code.encode(x, 0.0, nullptr), llvq::InputError);
  EXPECT_THROW(code.encode(x, -1.0, nullptr), llvq::InputError);
  EXPECT_THROW(code.encode(x, std::nan(""), nullptr), llvq::InputError);
  x[5] = std::nanf("");
  EXPECT_THROW(code.encode(x, 1.0, nullptr), llvq::InputError);
}

// unrank → rank is the identity on random indices; every point is in J and is its own
// coset representative (rank throws otherwise).
void round_trip(int bits, int count, uint64_t seed) {
  const VoronoiCode code(bits);
  std::mt19937_64 rng(seed);
  for (int n = 0; n < count; ++n) {
    const Index i = random_index(rng, code);
    const Vec p = code.unrank(i);
    ASSERT_TRUE(llvq::leech::is_member(p));
    ASSERT_TRUE(code.rank(p) == i) << "bits " << bits << " n " << n;
  }
}

TEST(VoronoiCode, RoundTripSmall) {
  round_trip(72, 2000, 1);
  round_trip(96, 2000, 2);
}

TEST(VoronoiCode, SlowRoundTripHalfMillionEach) {
  round_trip(72, 500000, 3);
  round_trip(96, 500000, 4);
}

// Independent check of "in the Voronoi region": the brute-force exact nearest point of
// 2^r·J to an unranked point is the origin.
TEST(VoronoiCode, UnrankedPointsAreInTheVoronoiRegionByBruteForce) {
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    std::mt19937_64 rng(bits);
    for (int n = 0; n < 60; ++n) {
      const Vec p = code.unrank(random_index(rng, code));
      EXPECT_TRUE(is_zero(leech_oracle::brute_force_exact(p, 1 << code.order_bits())));
    }
  }
}

// A random minimal vector of J (shell 2), of each of the three types in turn.
Vec random_minimal_vector(std::mt19937_64& rng, int type) {
  Vec v{};
  if (type == 0) {  // (±4, ±4, 0²²)
    const int i = static_cast<int>(rng() % 24), j = (i + 1 + static_cast<int>(rng() % 23)) % 24;
    v[i] = rng() & 1 ? 4 : -4;
    v[j] = rng() & 1 ? 4 : -4;
  } else if (type == 1) {  // (±2⁸) on an octad, an even number of minus signs
    const auto octads = llvq::golay::codewords_of_weight(8);
    const uint32_t o = octads[rng() % octads.size()];
    int minus = 0, last = 0;
    for (int i = 0; i < 24; ++i)
      if (o >> i & 1) {
        v[i] = rng() & 1 ? 2 : -2;
        minus += v[i] < 0;
        last = i;
      }
    if (minus % 2) v[last] = -v[last];
  } else {  // (−3, 1²³) with the −3 anywhere, then signs flipped on a codeword
    v.fill(1);
    v[rng() % 24] = -3;
    const uint32_t c = llvq::golay::encode(static_cast<uint32_t>(rng() % 4096));
    for (int i = 0; i < 24; ++i)
      if (c >> i & 1) v[i] = -v[i];
  }
  return v;
}

// Points on the boundary: for a minimal vector s, w = 2^(r-1)·s and w − 2^r·s = −w are in
// the same coset and at the same norm, on a facet of the Voronoi region of 2^r·J. Exactly
// one of them is in the codebook, every translate of the coset maps to the same point, and
// it round-trips.
TEST(VoronoiCode, BoundaryTiesResolveToExactlyOneRepresentative) {
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    const int period = 1 << code.order_bits();
    std::mt19937_64 rng(bits + 1);
    int ties = 0;
    for (int n = 0; n < 300; ++n) {
      const Vec s = random_minimal_vector(rng, n % 3);
      ASSERT_EQ(llvq::leech::shell_of(s), 2);
      Vec w, minus_w;
      for (int i = 0; i < 24; ++i) w[i] = s[i] * period / 2, minus_w[i] = -w[i];
      const Vec rep = code.representative(w);
      ASSERT_TRUE(code.contains(rep));
      ASSERT_EQ(code.unrank(code.rank(rep)), rep);
      ASSERT_EQ(code.representative(minus_w), rep);
      const Vec u = leech_oracle::random_lattice_point(rng, 2);
      Vec shifted;
      for (int i = 0; i < 24; ++i) shifted[i] = w[i] + period * u[i];
      ASSERT_EQ(code.representative(shifted), rep);
      if (llvq::leech::norm2(rep) == llvq::leech::norm2(w)) {  // w itself is a tied point
        ++ties;
        EXPECT_NE(code.contains(w), code.contains(minus_w));
      }
    }
    EXPECT_EQ(ties, 300);  // half a minimal vector is always on a facet
  }
}

// A vertex of the Voronoi region: 2^r·(4, 0²³) is 2^r times a deep hole of J, at the same
// distance from 2^r·u for u = 0, 8e_0 and 4e_0 ± 4e_j. All those translates are one coset
// with one representative, and at most one of them is in the codebook.
TEST(VoronoiCode, DeepHoleVertexHasOneRepresentative) {
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    const int period = 1 << code.order_bits();
    Vec w{};
    w[0] = 4 * period;
    std::vector<Vec> neighbours(1, Vec{});
    Vec u{};
    u[0] = 8;
    neighbours.push_back(u);
    for (int j = 1; j < 24; ++j)
      for (int sign : {4, -4}) {
        u.fill(0);
        u[0] = 4;
        u[j] = sign;
        neighbours.push_back(u);
      }
    const Vec rep = code.representative(w);
    EXPECT_EQ(code.unrank(code.rank(rep)), rep);
    int contained = 0;
    for (const Vec& n : neighbours) {
      Vec t;
      for (int i = 0; i < 24; ++i) t[i] = w[i] - period * n[i];
      EXPECT_EQ(llvq::leech::norm2(t), llvq::leech::norm2(w));
      EXPECT_EQ(code.representative(t), rep);
      contained += code.contains(t);
    }
    EXPECT_LE(contained, 1);
  }
}

TEST(VoronoiCode, EncodeOfScaledCodebookPointReturnsItsIndex) {
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    std::mt19937_64 rng(bits + 2);
    for (double scale : {code.default_gaussian_scale(), 3.7}) {
      for (int n = 0; n < 300; ++n) {
        const Index i = random_index(rng, code);
        const Vec p = code.unrank(i);
        float x[24];
        for (int k = 0; k < 24; ++k) x[k] = static_cast<float>(p[k] / scale);
        Vec q;
        EXPECT_TRUE(code.encode(x, scale, &q) == i);
        EXPECT_EQ(q, p);
      }
    }
  }
}

double block_error(const float* x, const Vec& p, double scale) {
  double e = 0;
  for (int i = 0; i < 24; ++i) e += (x[i] - p[i] / scale) * (x[i] - p[i] / scale);
  return e;
}

// Overloaded input (far outside the codebook) still gives a codebook point, and a much
// better one than the wrapped-around coset representative of the nearest lattice point.
TEST(VoronoiCode, OverloadShrinksInsteadOfWrapping) {
  const VoronoiCode code(72);
  const double scale = code.default_gaussian_scale();
  std::mt19937_64 rng(8);
  std::normal_distribution<float> g(0.0f, 2.5f);
  for (int n = 0; n < 50; ++n) {
    float x[24];
    double y[24];
    for (int i = 0; i < 24; ++i) x[i] = g(rng), y[i] = scale * x[i];
    Vec p;
    const Index i = code.encode(x, scale, &p);
    EXPECT_TRUE(code.contains(p));
    EXPECT_EQ(code.unrank(i), p);
    const Vec wrapped = code.representative(llvq::leech::nearest_point(y));
    EXPECT_LE(block_error(x, p, scale), block_error(x, wrapped, scale));
  }
}

double gaussian_mse(const VoronoiCode& code, double scale, const std::vector<float>& x) {
  double e = 0;
  const size_t blocks = x.size() / 24;
  for (size_t b = 0; b < blocks; ++b) {
    Vec p;
    code.encode(&x[24 * b], scale, &p);
    e += block_error(&x[24 * b], p, scale);
  }
  return e / static_cast<double>(x.size());
}

std::vector<float> gaussian_blocks(size_t blocks, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(24 * blocks);
  for (float& v : x) v = g(rng);
  return x;
}

// The documented scale is a local optimum of the Gaussian MSE (on fresh data), and the
// code beats the Lloyd–Max scalar quantizer of the same rate (MSE 0.03454 at 3 bits,
// 0.009497 at 4 bits per sample).
TEST(VoronoiCode, SlowDefaultScaleIsNearOptimalForGaussianInput) {
  const std::vector<float> x = gaussian_blocks(8000, 77);
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    const double s = code.default_gaussian_scale();
    const double mse = gaussian_mse(code, s, x);
    std::printf("bits %d scale %.4f MSE %.6f\n", bits, s, mse);
    EXPECT_LT(mse, gaussian_mse(code, s * 0.95, x));
    EXPECT_LT(mse, gaussian_mse(code, s * 1.05, x));
    EXPECT_LT(mse, bits == 72 ? 0.03454 : 0.009497);
  }
}

// The measurement behind default_gaussian_scale (docs/voronoi.md): golden-section search
// of the scale on 10^5 Gaussian blocks. Run with --gtest_also_run_disabled_tests.
TEST(VoronoiCode, DISABLED_MeasureGaussianDistortion) {
  const std::vector<float> x = gaussian_blocks(100000, 2026);
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    const double rate = bits / 24.0;
    double lo = bits == 72 ? 3.5 : 7.0, hi = bits == 72 ? 7.0 : 14.0;
    const double phi = (std::sqrt(5.0) - 1) / 2;
    double a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
    double fa = gaussian_mse(code, a, x), fb = gaussian_mse(code, b, x);
    while (hi - lo > 0.01) {
      if (fa < fb) {
        hi = b, b = a, fb = fa, a = hi - phi * (hi - lo), fa = gaussian_mse(code, a, x);
      } else {
        lo = a, a = b, fa = fb, b = lo + phi * (hi - lo), fb = gaussian_mse(code, b, x);
      }
      std::printf("bits %d: scale [%.4f, %.4f] MSE %.6f / %.6f\n", bits, lo, hi, fa, fb);
      std::fflush(stdout);
    }
    const double best = fa < fb ? a : b;
    const double mse = std::min(fa, fb);
    std::printf("RESULT bits %d best scale %.4f MSE %.6f D(R) %.6f gap %.3f dB\n", bits, best, mse,
                std::pow(2.0, -2 * rate), 10 * std::log10(mse / std::pow(2.0, -2 * rate)));
  }
}

}  // namespace
