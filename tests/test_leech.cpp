#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "leech_oracle.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech.hpp"

namespace {
using llvq::leech::Vec;

TEST(Leech, MinimalVectorsOfEachType) {
  Vec a{};  // (±2^8 on an octad, even number of minus signs)
  const uint32_t octad = llvq::golay::codewords_of_weight(8)[0];
  for (int i = 0; i < 24; ++i) a[i] = (octad >> i & 1) ? 2 : 0;
  EXPECT_EQ(llvq::leech::shell_of(a), 2);
  Vec b{};  // (±4, ±4, 0^22)
  b[3] = 4;
  b[17] = -4;
  EXPECT_EQ(llvq::leech::shell_of(b), 2);
  Vec c;  // (-3, 1^23)
  c.fill(1);
  c[0] = -3;
  EXPECT_EQ(llvq::leech::shell_of(c), 2);
  Vec d{};  // (4, 0^23): right norm parity but Σ ≡ 4 mod 8
  d[0] = 4;
  EXPECT_FALSE(llvq::leech::is_member(d));
  Vec e = c;  // mixed parity
  e[5] = 2;
  EXPECT_FALSE(llvq::leech::is_member(e));
}

double dist2(const double* x, const Vec& p) {
  double s = 0;
  for (int i = 0; i < 24; ++i) s += (x[i] - p[i]) * (x[i] - p[i]);
  return s;
}

// The decoder against the 8192-coset brute force on Gaussian inputs of several spreads.
TEST(LeechNearestPoint, SlowMatchesBruteForceOnRandomInputs) {
  std::mt19937_64 rng(20261124);
  int compared_points = 0;
  for (double sigma : {0.7, 2.0, 6.0, 40.0}) {
    std::normal_distribution<double> g(0.0, sigma);
    for (int n = 0; n < 2500; ++n) {
      double x[24];
      for (double& v : x) v = g(rng);
      const Vec p = llvq::leech::nearest_point(x);
      ASSERT_TRUE(llvq::leech::is_member(p));
      const auto ref = leech_oracle::brute_force(x);
      ASSERT_NEAR(dist2(x, p), ref.dist2, 1e-9 * (1 + ref.dist2)) << "sigma " << sigma << " n " << n;
      if (ref.runner_up - ref.dist2 > 1e-7) {
        ASSERT_EQ(p, ref.point);
        ++compared_points;
      }
    }
  }
  EXPECT_GT(compared_points, 9900);  // near-ties are rare for continuous inputs
}

TEST(LeechNearestPoint, FloatOverloadAgrees) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> g(0.0f, 3.0f);
  for (int n = 0; n < 200; ++n) {
    float xf[24];
    double xd[24];
    for (int i = 0; i < 24; ++i) xd[i] = xf[i] = g(rng);
    EXPECT_EQ(llvq::leech::nearest_point(xf), llvq::leech::nearest_point(xd));
  }
}

TEST(LeechNearestPoint, LatticePointsAndSmallPerturbations) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int n = 0; n < 500; ++n) {
    const Vec p = leech_oracle::random_lattice_point(rng, 50);
    ASSERT_TRUE(llvq::leech::is_member(p));
    double x[24];
    for (int i = 0; i < 24; ++i) x[i] = p[i];
    EXPECT_EQ(llvq::leech::nearest_point(x), p);
    // |noise| ≤ 0.4·√24 ≈ 1.96 < packing radius √32 / 2 ≈ 2.83: p stays the unique answer
    const double shrink = 0.4;
    for (int i = 0; i < 24; ++i) x[i] = p[i] + shrink * u(rng);
    EXPECT_EQ(llvq::leech::nearest_point(x), p);
  }
}

// Midpoints of two lattice points at minimal distance are equidistant from both: the
// decoder must return a point at the minimal distance (whichever of the tied ones).
TEST(LeechNearestPoint, MidpointsAndDeepHoles) {
  std::mt19937_64 rng(12);
  std::vector<Vec> minimal;
  Vec m{};
  m[0] = 4;
  m[1] = 4;
  minimal.push_back(m);
  m.fill(1);
  m[0] = -3;
  minimal.push_back(m);
  m.fill(0);
  for (int i = 0; i < 24; ++i) m[i] = (llvq::golay::codewords_of_weight(8)[5] >> i & 1) ? 2 : 0;
  minimal.push_back(m);
  for (int n = 0; n < 300; ++n) {
    const Vec p = leech_oracle::random_lattice_point(rng, 20);
    const Vec& d = minimal[n % minimal.size()];
    double x[24];
    for (int i = 0; i < 24; ++i) x[i] = p[i] + 0.5 * d[i];
    const Vec q = llvq::leech::nearest_point(x);
    ASSERT_TRUE(llvq::leech::is_member(q));
    const auto ref = leech_oracle::brute_force(x);
    EXPECT_DOUBLE_EQ(dist2(x, q), ref.dist2);
    EXPECT_DOUBLE_EQ(ref.dist2, 0.25 * 32);  // half of a norm-32 vector, squared: 8
  }
  // (4, 0^23) is not in J and is equidistant (distance 4) from 0, (4, ±4, 0^22), (8, 0^23)
  // and others: whichever the decoder picks must be at the brute-force distance.
  double hole[24] = {4};
  const Vec q = llvq::leech::nearest_point(hole);
  EXPECT_DOUBLE_EQ(dist2(hole, q), leech_oracle::brute_force(hole).dist2);
}

TEST(LeechNearestPoint, RejectsNonFiniteAndHugeInput) {
  double x[24] = {};
  x[3] = std::nan("");
  EXPECT_THROW(llvq::leech::nearest_point(x), llvq::InputError);
  x[3] = 1e12;
  EXPECT_THROW(llvq::leech::nearest_point(x), llvq::InputError);
  Vec v{};
  EXPECT_THROW(llvq::leech::nearest_point_scaled(v, 0), llvq::InputError);
  EXPECT_THROW(llvq::leech::nearest_point_scaled(v, 17), llvq::InputError);
}

// Exact integer decoder of scale·J against the brute force with the same tie order, on
// random points and on tie-heavy points (half-lattice points, which sit on Voronoi facets).
TEST(LeechNearestPointScaled, MatchesExactBruteForceIncludingTies) {
  std::mt19937_64 rng(99);
  for (int scale : {1, 2, 8, 16}) {
    std::uniform_int_distribution<int> u(-8 * scale, 8 * scale);
    for (int n = 0; n < 60; ++n) {
      Vec v;
      if (n % 2 == 0) {
        for (int32_t& e : v) e = u(rng);
      } else {  // scale/2 · (lattice point): on a facet of scale·Vor(J) whenever it is not deep
        const Vec p = leech_oracle::random_lattice_point(rng, 2);
        for (int i = 0; i < 24; ++i) v[i] = scale % 2 == 0 ? p[i] * (scale / 2) : p[i] * scale;
      }
      const Vec q = llvq::leech::nearest_point_scaled(v, scale);
      Vec q_unscaled;
      for (int i = 0; i < 24; ++i) {
        ASSERT_EQ(q[i] % scale, 0);
        q_unscaled[i] = q[i] / scale;
      }
      ASSERT_TRUE(llvq::leech::is_member(q_unscaled));
      ASSERT_EQ(q, leech_oracle::brute_force_exact(v, scale)) << "scale " << scale << " n " << n;
    }
  }
}

// nearest_point_scaled against the brute force near ties, at one scale. Ties inside one coset,
// which the coset costs cannot show: (2, 2, 2, 0²¹) has three closest points of codeword 0 (one
// of the three 2s moved down: the parity move is tied), and the indicator of the decoder's first
// trio octad O (the first octad of the Golay code) two, 0 and 2·O, whose codewords are
// complements on O (one coset). Then `inputs` points: facet points scale·p/2 between 0 and
// scale·p (p with even coordinates when the scale is odd) moved by ±1 in a few coordinates, and
// points of the code J/scale·J that the Voronoi codes' unrank decodes (random basis coordinates).
void expect_brute_force_near_ties(int scale, int inputs, std::mt19937_64& rng) {
  const uint32_t octad = llvq::golay::codewords_of_weight(8)[0];
  Vec three{}, indicator{};
  for (int i = 0; i < 3; ++i) three[i] = 2 * scale;
  for (int i = 0; i < 24; ++i) indicator[i] = (octad >> i & 1) ? scale : 0;
  EXPECT_EQ(llvq::leech::nearest_point_scaled(three, scale), leech_oracle::brute_force_exact(three, scale));
  EXPECT_EQ(llvq::leech::nearest_point_scaled(indicator, scale), leech_oracle::brute_force_exact(indicator, scale));
  std::uniform_int_distribution<int> coordinate(0, 23), step(-1, 1), digit(0, scale - 1);
  for (int n = 0; n < inputs; ++n) {
    Vec v;
    if (n % 2 == 0) {
      Vec p;
      do p = leech_oracle::random_lattice_point(rng, 2);
      while (scale % 2 != 0 && std::any_of(p.begin(), p.end(), [](int32_t e) { return e % 2 != 0; }));
      for (int i = 0; i < 24; ++i) v[i] = p[i] * scale / 2;
      for (int moves = n % 8 / 2; moves > 0; --moves) v[coordinate(rng)] += step(rng);
    } else {
      llvq::leech::Coords z;
      for (int64_t& e : z) e = digit(rng);
      v = llvq::leech::from_basis_coordinates(z);
    }
    ASSERT_EQ(llvq::leech::nearest_point_scaled(v, scale), leech_oracle::brute_force_exact(v, scale))
        << "scale " << scale << " n " << n;
  }
}

// Power-of-two scales take the double decoder's point whenever the closest point is unique
// (the exact costs only where a stage is tied). Near-ties are where a wrong uniqueness test
// would show.
TEST(LeechNearestPointScaled, DyadicScalesMatchBruteForceNearTies) {
  std::mt19937_64 rng(2026);
  for (int scale : {1, 2, 8, 16}) expect_brute_force_near_ties(scale, scale >= 8 ? 200 : 0, rng);
}

// Other scales take the double decoder's point when each coset at the minimum has one closest
// point by more than the rounding slack (the exact costs otherwise), at the scales of the odd
// and mixed moduli (llvq-sg's J/14J among them).
TEST(LeechNearestPointScaled, OtherScalesMatchBruteForceNearTies) {
  std::mt19937_64 rng(2027);
  for (int scale : {3, 5, 7, 12, 14}) expect_brute_force_near_ties(scale, 120, rng);
}

// Moving the input by a lattice vector moves the answer by the same vector, ties included:
// this is what makes v − nearest_point_scaled(v, s) a canonical coset representative.
TEST(LeechNearestPointScaled, TranslationInvariantTieBreak) {
  std::mt19937_64 rng(5);
  const int scale = 8;
  for (int n = 0; n < 300; ++n) {
    const Vec p = leech_oracle::random_lattice_point(rng, 1);
    Vec v;
    for (int i = 0; i < 24; ++i) v[i] = p[i] * (scale / 2);  // tie-heavy
    const Vec u = leech_oracle::random_lattice_point(rng, 3);
    Vec w;
    for (int i = 0; i < 24; ++i) w[i] = v[i] + scale * u[i];
    const Vec qv = llvq::leech::nearest_point_scaled(v, scale);
    const Vec qw = llvq::leech::nearest_point_scaled(w, scale);
    for (int i = 0; i < 24; ++i) ASSERT_EQ(qw[i] - qv[i], scale * u[i]);
  }
}

TEST(LeechBasis, TriangularRowsInLatticeWithDeterminant2To36) {
  const auto& b = llvq::leech::basis();
  __int128 det = 1;
  for (int k = 0; k < 24; ++k) {
    EXPECT_TRUE(llvq::leech::is_member(b[k])) << "row " << k;
    for (int c = 0; c < k; ++c) EXPECT_EQ(b[k][c], 0);
    EXPECT_GT(b[k][k], 0);
    for (int r = 0; r < k; ++r) {  // Hermite normal form: reduced above the pivot
      EXPECT_GE(b[r][k], 0);
      EXPECT_LT(b[r][k], b[k][k]);
    }
    det *= b[k][k];
  }
  // Independent count: J ⊇ 8Z²⁴ and membership depends on x mod 8; J has
  // 2 halves · 4096 codewords · 2^24 residue choices / 2 (sum condition) = 2^36 classes mod 8,
  // so det J = 8^24 / 2^36.
  const __int128 classes_mod8 = static_cast<__int128>(2) * 4096 * (int64_t{1} << 24) / 2;
  const __int128 expected = (static_cast<__int128>(1) << 72) / classes_mod8;
  EXPECT_TRUE(det == expected);
  EXPECT_TRUE(det == (static_cast<__int128>(1) << 36));
}

TEST(LeechBasis, CoordinatesRoundTripAndRejectNonMembers) {
  std::mt19937_64 rng(3);
  for (int n = 0; n < 2000; ++n) {
    const Vec p = leech_oracle::random_lattice_point(rng, 100);
    llvq::leech::Coords z;
    ASSERT_TRUE(llvq::leech::basis_coordinates(p, z));
    EXPECT_EQ(llvq::leech::from_basis_coordinates(z), p);
    Vec q = p;
    q[n % 24] += 2 * (1 + static_cast<int>(rng() % 3));  // breaks the mod-8 sum or the codeword
    if (!llvq::leech::is_member(q)) {
      EXPECT_FALSE(llvq::leech::basis_coordinates(q, z));
    }
  }
}

}  // namespace
