#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "leech_oracle.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech.hpp"
#include "llvq/leech_shells.hpp"
#include "llvq/voronoi_code.hpp"
#include "random.hpp"

namespace {
using llvq::VoronoiCode;
using llvq::leech::Vec;
using Index = VoronoiCode::Index;

Index random_index(std::mt19937_64& rng, const VoronoiCode& code) {
  const Index raw = (static_cast<Index>(rng()) << 64) | rng();
  return raw % code.size();
}

bool is_zero(const Vec& v) {
  for (int32_t e : v)
    if (e != 0) return false;
  return true;
}

TEST(VoronoiCode, SizesAndBadParameters) {
  const VoronoiCode c72(72), c96(96);
  EXPECT_EQ(c72.bits(), 72);
  EXPECT_EQ(c72.modulus(), 8);
  EXPECT_TRUE(c72.size() == static_cast<Index>(1) << 72);
  EXPECT_EQ(c96.modulus(), 16);
  EXPECT_TRUE(c96.size() == static_cast<Index>(1) << 96);
  for (int bad : {0, 24, 48, 71, 73, 120, -72}) EXPECT_THROW(VoronoiCode{bad}, llvq::InputError);
  for (int bad : {-1, 0, 1, 17}) EXPECT_THROW(VoronoiCode::with_modulus(bad), llvq::InputError);
  const VoronoiCode c7 = VoronoiCode::with_modulus(7), c14 = VoronoiCode::with_modulus(14);
  Index p7 = 1, p14 = 1;
  for (int k = 0; k < 24; ++k) p7 *= 7, p14 *= 14;
  EXPECT_TRUE(c7.size() == p7);
  EXPECT_EQ(c7.bits(), 68);  // 7^24 ≈ 2^67.4
  EXPECT_TRUE(c14.size() == p14);
  EXPECT_EQ(c14.bits(), 92);  // 14^24 ≈ 2^91.4
  EXPECT_THROW(c7.default_gaussian_scale(), llvq::InputError);
}

// For a = 2^r the mixed-radix index is the packing of the basis coordinates mod 2^r into r
// bits each, which is how llvq-ss's 72- and 96-bit codes have always been written.
TEST(VoronoiCode, PowerOfTwoModulusIndexIsTheBitPacking) {
  for (int r : {3, 4}) {
    const VoronoiCode code = VoronoiCode::with_modulus(1 << r);
    EXPECT_EQ(code.bits(), 24 * r);
    std::mt19937_64 rng(r);
    for (int n = 0; n < 200; ++n) {
      const Vec p = code.unrank(random_index(rng, code));
      llvq::leech::Coords z;
      llvq::leech::basis_coordinates(p, z);
      Index packed = 0;
      for (int k = 0; k < 24; ++k) packed |= static_cast<Index>(z[k] & ((1 << r) - 1)) << (r * k);
      EXPECT_TRUE(code.rank(p) == packed);
      EXPECT_TRUE(VoronoiCode(24 * r).rank(p) == packed);
    }
  }
}

// J/2J: its 2^24 coset representatives are the origin, pairs ±v of shells 2 and 3 and
// 48-point frames of shell 4 (Conway & Sloane, ch. 4 §11), so every codebook point has
// |v|² ∈ {0, 32, 48, 64}, and each shell appears in the proportion of its coset count.
TEST(VoronoiCode, ModulusTwoCodebookIsShellsZeroToFour) {
  const VoronoiCode code = VoronoiCode::with_modulus(2);
  std::mt19937_64 rng(2);
  std::array<int, 5> count{};
  const int samples = 4000;
  for (int n = 0; n < samples; ++n) {
    const Index i = random_index(rng, code);
    const Vec p = code.unrank(i);
    const int64_t n2 = llvq::leech::norm2(p);
    ASSERT_TRUE(n2 == 0 || n2 == 32 || n2 == 48 || n2 == 64) << n2;
    ++count[static_cast<size_t>(n2 / 16)];
    ASSERT_TRUE(code.rank(p) == i);
  }
  // 8,386,560 of 2^24 cosets (50.0%) lie on shell 3, 8,292,375 (49.4%) on shell 4.
  EXPECT_NEAR(count[3] / double(samples), 8386560.0 / 16777216.0, 0.03);
  EXPECT_NEAR(count[4] / double(samples), 8292375.0 / 16777216.0, 0.03);
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
void round_trip(const VoronoiCode& code, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int n = 0; n < count; ++n) {
    const Index i = random_index(rng, code);
    const Vec p = code.unrank(i);
    ASSERT_TRUE(llvq::leech::is_member(p));
    ASSERT_TRUE(code.rank(p) == i) << "modulus " << code.modulus() << " n " << n;
  }
}

TEST(VoronoiCode, RoundTripSmall) {
  round_trip(VoronoiCode(72), 2000, 1);
  round_trip(VoronoiCode(96), 2000, 2);
  for (int a : {3, 5, 7, 14}) round_trip(VoronoiCode::with_modulus(a), 2000, 10 + a);
}

TEST(VoronoiCode, SlowRoundTripHalfMillionEach) {
  round_trip(VoronoiCode(72), 500000, 3);
  round_trip(VoronoiCode(96), 500000, 4);
  round_trip(VoronoiCode::with_modulus(7), 500000, 5);
  round_trip(VoronoiCode::with_modulus(14), 500000, 6);
}

// The first and last index of the non-power-of-two codes used by llvq-sg.
TEST(VoronoiCode, FirstAndLastIndexOfOddModuli) {
  for (int a : {7, 14}) {
    const VoronoiCode code = VoronoiCode::with_modulus(a);
    EXPECT_TRUE(is_zero(code.unrank(0)));
    const Vec last = code.unrank(code.size() - 1);
    EXPECT_TRUE(code.contains(last));
    EXPECT_TRUE(code.rank(last) == code.size() - 1);
    EXPECT_THROW(code.unrank(code.size()), llvq::InputError);
  }
}

// Independent check of "in the Voronoi region": the brute-force exact nearest point of
// 2^r·J to an unranked point is the origin.
TEST(VoronoiCode, UnrankedPointsAreInTheVoronoiRegionByBruteForce) {
  for (const VoronoiCode& code : {VoronoiCode(72), VoronoiCode(96), VoronoiCode::with_modulus(7)}) {
    std::mt19937_64 rng(static_cast<uint64_t>(code.modulus()));
    for (int n = 0; n < 60; ++n) {
      const Vec p = code.unrank(random_index(rng, code));
      EXPECT_TRUE(is_zero(leech_oracle::brute_force_exact(p, code.modulus())));
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
  for (const VoronoiCode& code : {VoronoiCode(72), VoronoiCode(96), VoronoiCode::with_modulus(14)}) {
    const int period = code.modulus();
    std::mt19937_64 rng(static_cast<uint64_t>(period) + 1);
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

// An odd modulus has no half lattice vectors, but ties all the same, and across the fast
// decoder's cosets: on an octad O, v = 8 on seven of its positions (0 on the eighth and off O)
// is as far from 0 as from 7·s, s = 2 on O (|v|² = |v − 7s|² = 448), and v − 7s is ≡ 2 mod 4
// on O where v is ≡ 0, so the two candidates lie in different cosets, whose double costs v/7
// rounds. Every translate of v's coset by 7·J maps to one representative, the one the
// brute-force oracle picks under the same tie order.
TEST(VoronoiCode, OddModulusTieAcrossCosetsHasOneRepresentative) {
  const VoronoiCode code = VoronoiCode::with_modulus(7);
  const uint32_t octad = llvq::golay::codewords_of_weight(8).front();
  Vec v{}, s{};
  int placed = 0;
  for (int i = 0; i < 24; ++i)
    if (octad >> i & 1) {
      s[i] = 2;
      if (++placed < 8) v[i] = 8;
    }
  Vec v_minus_7s;
  for (int i = 0; i < 24; ++i) v_minus_7s[i] = v[i] - 7 * s[i];
  ASSERT_TRUE(llvq::leech::is_member(v));
  ASSERT_TRUE(llvq::leech::is_member(s));
  ASSERT_EQ(llvq::leech::norm2(v), 448);
  ASSERT_EQ(llvq::leech::norm2(v_minus_7s), 448);
  const Vec rep = code.representative(v);
  Vec oracle;
  const Vec q = leech_oracle::brute_force_exact(v, 7);
  for (int i = 0; i < 24; ++i) oracle[i] = v[i] - q[i];
  EXPECT_EQ(rep, oracle);
  EXPECT_TRUE(code.contains(rep));
  EXPECT_NE(code.contains(v), code.contains(v_minus_7s));
  EXPECT_EQ(code.representative(v_minus_7s), rep);
  std::mt19937_64 rng(77);
  for (int n = 0; n < 200; ++n) {
    const Vec u = leech_oracle::random_lattice_point(rng, 3);
    Vec shifted;
    for (int i = 0; i < 24; ++i) shifted[i] = v[i] + 7 * u[i];
    ASSERT_EQ(code.representative(shifted), rep) << n;
  }
}

// A tie that the double costs of v/7 did split, before nearest_point_scaled rebuilt every
// coset within rounding of the minimum (found by the random round trips): its representative
// was not its own representative. Now it is, and it is the brute-force oracle's.
TEST(VoronoiCode, OddModulusRepresentativeOfASplitTie) {
  const VoronoiCode code = VoronoiCode::with_modulus(7);
  const Vec v = {9, 1, -3, -3, -5, 9, -3, -3, -7, -9, -5, -1, 1, -7, -3, 5, 5, -5, -7, -3, -5, -1, 1, 11};
  ASSERT_TRUE(llvq::leech::is_member(v));
  const Vec rep = code.representative(v);
  const Vec q = leech_oracle::brute_force_exact(v, 7);
  Vec oracle;
  for (int i = 0; i < 24; ++i) oracle[i] = v[i] - q[i];
  EXPECT_EQ(rep, oracle);
  EXPECT_EQ(code.representative(rep), rep);
  EXPECT_TRUE(code.contains(rep));
}

// A vertex of the Voronoi region: 2^r·(4, 0²³) is 2^r times a deep hole of J, at the same
// distance from 2^r·u for u = 0, 8e_0 and 4e_0 ± 4e_j. All those translates are one coset
// with one representative, and at most one of them is in the codebook.
TEST(VoronoiCode, DeepHoleVertexHasOneRepresentative) {
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    const int period = code.modulus();
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

// Gaussian input at the default scale: the answer is the nearest lattice point whenever
// that is in the codebook (the independent oracle being the brute-force decoder), and a
// codebook point with a consistent index otherwise.
TEST(VoronoiCode, EncodeIsTheNearestLatticePointWhenInside) {
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    const double scale = code.default_gaussian_scale();
    std::mt19937_64 rng(bits + 3);
    std::normal_distribution<float> g(0.0f, 1.0f);
    int inside = 0;
    for (int n = 0; n < 40; ++n) {
      float x[24];
      double y[24];
      for (int i = 0; i < 24; ++i) x[i] = g(rng), y[i] = scale * x[i];
      Vec p;
      const Index i = code.encode(x, scale, &p);
      EXPECT_TRUE(code.contains(p));
      EXPECT_TRUE(code.rank(p) == i);
      const Vec nearest = leech_oracle::brute_force(y).point;
      if (code.contains(nearest)) {
        ++inside;
        EXPECT_EQ(p, nearest);
      }
    }
    EXPECT_GT(inside, 20);
  }
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

std::vector<float> gaussian_blocks(size_t blocks, uint64_t seed) { return llvq::test::gaussian(24 * blocks, seed); }

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

// Golden-section search of the scale minimising mse(scale) on [lo, hi]; prints progress.
template <class Mse>
std::pair<double, double> golden_search(double lo, double hi, Mse mse, const char* what) {
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
  double fa = mse(a), fb = mse(b);
  while (hi - lo > 0.01) {
    if (fa < fb) {
      hi = b, b = a, fb = fa, a = hi - phi * (hi - lo), fa = mse(a);
    } else {
      lo = a, a = b, fa = fb, b = lo + phi * (hi - lo), fb = mse(b);
    }
    std::printf("%s: scale [%.4f, %.4f] MSE %.6f / %.6f\n", what, lo, hi, fa, fb);
    std::fflush(stdout);
  }
  return fa < fb ? std::make_pair(a, fa) : std::make_pair(b, fb);
}

void print_result(const char* what, int bits, std::pair<double, double> best) {
  const double d = std::pow(2.0, -2 * (bits / 24.0));
  std::printf("RESULT %s bits %d best scale %.4f MSE %.6f D(R) %.6f gap %.3f dB\n", what, bits, best.first,
              best.second, d, 10 * std::log10(best.second / d));
}

// The measurement behind default_gaussian_scale (docs/voronoi.md): golden-section search
// of the scale on 10^5 Gaussian blocks. Run with --gtest_also_run_disabled_tests.
TEST(VoronoiCode, DISABLED_MeasureGaussianDistortion) {
  const std::vector<float> x = gaussian_blocks(100000, 2026);
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    const double lo = bits == 72 ? 3.5 : 7.0, hi = bits == 72 ? 7.0 : 14.0;
    print_result("voronoi", bits,
                 golden_search(lo, hi, [&](double s) { return gaussian_mse(code, s, x); }, "voronoi"));
  }
}

// For comparison (docs/voronoi.md): spherical shaping with the same number of bits, the
// ball Λ24(M) of shells 0..M (M = 53 fits 72 bits, M = 214 fits 96 bits, docs/background.md §1),
// i.e. |p|² ≤ 16·M in J's scale. Encoder: the nearest lattice point, or when it is outside
// the ball, the same radial bisection as the Voronoi code's overload search. No indexing
// exists for these balls here: this only measures the distortion such a codebook reaches.
TEST(VoronoiCode, DISABLED_MeasureBallShapingForComparison) {
  const std::vector<float> x = gaussian_blocks(100000, 2026);
  for (int bits : {72, 96}) {
    const int64_t max_norm2 = 16 * (bits == 72 ? 53 : 214);
    auto mse = [&](double scale) {
      double e = 0;
      for (size_t b = 0; b < x.size() / 24; ++b) {
        double y[24], z[24];
        for (int i = 0; i < 24; ++i) y[i] = scale * x[24 * b + i];
        Vec p = llvq::leech::nearest_point(y);
        if (llvq::leech::norm2(p) > max_norm2) {
          double inside = 0, outside = 1;
          p = Vec{};
          for (int step = 0; step < 16; ++step) {
            const double mid = 0.5 * (inside + outside);
            for (int i = 0; i < 24; ++i) z[i] = mid * y[i];
            const Vec q = llvq::leech::nearest_point(z);
            if (llvq::leech::norm2(q) <= max_norm2) inside = mid, p = q;
            else outside = mid;
          }
        }
        e += block_error(&x[24 * b], p, scale);
      }
      return e / static_cast<double>(x.size());
    };
    const double lo = bits == 72 ? 3.5 : 7.0, hi = bits == 72 ? 7.0 : 14.0;
    print_result("ball", bits, golden_search(lo, hi, mse, "ball"));
  }
}


// Shape–gain emulation for the comparisons below: the direction û is the best angle among
// the codebook points nearest to ρ·x/|x| for ρ on a grid (0.5 apart) in [rho_min, rho_max]
// — only approximately the best direction of the codebook, so the resulting MSE is an upper
// bound for an exact angular search. The gain is a Lloyd–Max quantizer of ⟨x, û⟩ with
// 2^gain_bits levels trained on other blocks. Returns the MSE per dimension on `test`.
template <class InCodebook>
double shape_gain_mse(const std::vector<float>& train, const std::vector<float>& test, int gain_bits,
                      double rho_min, double rho_max, InCodebook in_codebook) {
  auto projections = [&](const std::vector<float>& x) {
    std::vector<double> proj(x.size() / 24);
    for (size_t b = 0; b < proj.size(); ++b) {
      double norm = 0;
      for (int i = 0; i < 24; ++i) norm += double(x[24 * b + i]) * x[24 * b + i];
      norm = std::sqrt(norm);
      double best_cos = 0;
      for (double rho = rho_max; rho >= rho_min; rho -= 0.5) {
        double y[24];
        for (int i = 0; i < 24; ++i) y[i] = rho * x[24 * b + i] / norm;
        const Vec p = llvq::leech::nearest_point(y);
        const int64_t n2 = llvq::leech::norm2(p);
        if (n2 == 0 || !in_codebook(p)) continue;
        double dot = 0;
        for (int i = 0; i < 24; ++i) dot += x[24 * b + i] * double(p[i]);
        best_cos = std::max(best_cos, dot / (norm * std::sqrt(double(n2))));
      }
      proj[b] = best_cos * norm;
    }
    return proj;
  };
  const std::vector<double> ptrain = projections(train), ptest = projections(test);
  auto nearest_level = [](const std::vector<double>& level, double v) {
    size_t best = 0;
    for (size_t l = 1; l < level.size(); ++l)
      if (std::fabs(level[l] - v) < std::fabs(level[best] - v)) best = l;
    return best;
  };
  std::vector<double> sorted = ptrain;
  std::sort(sorted.begin(), sorted.end());
  const size_t levels = size_t{1} << gain_bits;
  std::vector<double> level(levels);
  for (size_t l = 0; l < levels; ++l) level[l] = sorted[(2 * l + 1) * sorted.size() / (2 * levels)];
  for (int iter = 0; iter < 100; ++iter) {  // Lloyd iterations from the quantiles
    std::vector<double> sum(levels, 0), count(levels, 0);
    for (double v : ptrain) {
      const size_t l = nearest_level(level, v);
      sum[l] += v, count[l] += 1;
    }
    for (size_t l = 0; l < levels; ++l)
      if (count[l] > 0) level[l] = sum[l] / count[l];
  }
  double err = 0;
  for (size_t b = 0; b < ptest.size(); ++b) {
    double norm2 = 0;
    for (int i = 0; i < 24; ++i) norm2 += double(test[24 * b + i]) * test[24 * b + i];
    const double g = level[nearest_level(level, ptest[b])];
    err += norm2 - 2 * g * ptest[b] + g * g;  // |x − g·û|²
  }
  return err / static_cast<double>(test.size());
}

// The direction search returns a non-zero codebook point with its index and its cosine,
// deterministically; zero input gets a fixed direction, bad input an error.
TEST(VoronoiCode, DirectionSearchReturnsACodebookPointWithItsCosine) {
  for (int a : {7, 14}) {
    const VoronoiCode code = VoronoiCode::with_modulus(a);
    const std::vector<float> x = gaussian_blocks(200, 40 + a);
    for (size_t b = 0; b < 200; ++b) {
      const VoronoiCode::Direction d = code.search_direction(&x[24 * b]);
      ASSERT_TRUE(code.contains(d.point));
      ASSERT_FALSE(is_zero(d.point));
      ASSERT_TRUE(code.rank(d.point) == d.index);
      double dot = 0, xx = 0;
      for (int i = 0; i < 24; ++i) dot += x[24 * b + i] * double(d.point[i]), xx += double(x[24 * b + i]) * x[24 * b + i];
      EXPECT_NEAR(d.cosine, dot / std::sqrt(xx * double(llvq::leech::norm2(d.point))), 1e-12);
      EXPECT_TRUE(code.search_direction(&x[24 * b]).index == d.index);
    }
    const float zero[24] = {};
    const VoronoiCode::Direction z = code.search_direction(zero);
    EXPECT_EQ(z.cosine, 0.0);
    EXPECT_TRUE(code.contains(z.point));
    EXPECT_FALSE(is_zero(z.point));
    float bad[24] = {};
    bad[3] = std::numeric_limits<float>::infinity();
    EXPECT_THROW(code.search_direction(bad), llvq::InputError);
  }
  const float one[24] = {1.0f};
  EXPECT_THROW(VoronoiCode::with_modulus(3).search_direction(one), llvq::InputError);
}

// For comparison (docs/voronoi.md): shape–gain with the same bits, direction from the
// normalised union of shells 2..M, M the largest with Σ N(m) ≤ 2^(bits − gain bits).
TEST(VoronoiCode, DISABLED_MeasureShapeGainShellsForComparison) {
  const std::vector<float> train = gaussian_blocks(30000, 7), test = gaussian_blocks(30000, 2026);
  for (int bits : {72, 96}) {
    for (int gain_bits : {0, 1, 2, 3, 4, 6}) {
      int max_shell = 2;
      while (max_shell < llvq::shells::kMaxThetaShell &&
             llvq::shells::ceil_log2(llvq::shells::ball_count(max_shell + 1, false)) <= bits - gain_bits)
        ++max_shell;
      const double outer = std::sqrt(16.0 * max_shell);
      const double mse = shape_gain_mse(train, test, gain_bits, std::max(6.0, outer - 10), outer, [&](const Vec& p) {
        return llvq::leech::norm2(p) <= 16 * max_shell;
      });
      std::printf("RESULT shape-gain shells bits %d gain bits %d shells 2..%d MSE %.6f\n", bits, gain_bits,
                  max_shell, mse);
      std::fflush(stdout);
    }
  }
}

// For comparison (docs/voronoi.md): shape–gain whose direction comes from a Voronoi code
// J / a·J with a non-power-of-two modulus a (a^24 points, indexable like VoronoiCode with
// basis coordinates mod a), so that a^24 · 2^gain_bits ≤ 2^bits leaves room for the gain:
// a = 7 with 4 gain bits (71.4 bits), a = 14 with 4 gain bits (95.4 bits).
TEST(VoronoiCode, DISABLED_MeasureShapeGainVoronoiDirectionForComparison) {
  const std::vector<float> train = gaussian_blocks(30000, 7), test = gaussian_blocks(30000, 2026);
  for (auto [modulus, gain_bits] : {std::pair{7, 4}, std::pair{7, 3}, std::pair{14, 4}}) {
    const double outer = 4.0 * modulus;  // covering radius of modulus·J
    const double mse = shape_gain_mse(train, test, gain_bits, outer / 2, outer, [&](const Vec& p) {
      const Vec q = llvq::leech::nearest_point_scaled(p, modulus);
      return std::all_of(q.begin(), q.end(), [](int32_t e) { return e == 0; });
    });
    std::printf("RESULT shape-gain J/%dJ gain bits %d (%.2f bits) MSE %.6f\n", modulus, gain_bits,
                24 * std::log2(modulus) + gain_bits, mse);
    std::fflush(stdout);
  }
}
}  // namespace
