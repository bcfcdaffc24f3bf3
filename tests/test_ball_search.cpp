// Exactness of LeechBall's searches. Oracles: brute force over the explicit point lists of
// shell 2 and shells 2..3 (built by unrank, whose bijectivity test_ball_index checks), the
// maxima of every class of Λ24(13) over all its codewords (no bounds or pruning), and a
// randomized local search around the Λ24(13) result.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "lattice/search_isa.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq {
namespace {

using leech::kDim;
using leech::Vec;
using lattice::SearchIsa;

struct Inputs {
  std::vector<std::array<float, kDim>> x;
  std::vector<double> scale;
};

Inputs gaussian_inputs(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<double> s(0.3, 3.0);
  Inputs in;
  for (size_t i = 0; i < n; ++i) {
    std::array<float, kDim> x{};
    for (float& v : x) v = g(rng);
    in.x.push_back(x);
    in.scale.push_back(s(rng));
  }
  return in;
}

// Small integers (−3..3): inputs full of ties in |x|, zeros and equal bounds.
Inputs small_integer_inputs(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> v(-3, 3);
  std::uniform_real_distribution<double> s(0.3, 3.0);
  Inputs in;
  for (size_t i = 0; i < n; ++i) {
    std::array<float, kDim> x{};
    for (float& c : x) c = static_cast<float>(v(rng));
    in.x.push_back(x);
    in.scale.push_back(s(rng));
  }
  return in;
}

double dot(const float* x, const Vec& v) {
  double s = 0;
  for (int i = 0; i < kDim; ++i) s += static_cast<double>(x[i]) * v[i];
  return s;
}
double angular(const float* x, const Vec& v) { return dot(x, v) / std::sqrt(double(leech::norm2(v))); }
double euclid(const float* x, double s, const Vec& v) {
  double d = 0;
  for (int i = 0; i < kDim; ++i) d += (s * x[i] - v[i]) * (s * x[i] - v[i]);
  return d;
}

// Brute force: for every input, the best point of shells lo..hi under both metrics
// (Euclidean with the input's scale). Inside one shell both metrics rank points by <x,v>
// alone, so the scan keeps the best point per shell and input: inner products in float
// (GEMM) pick the candidates, exact double inner products decide between close ones.
struct Brute {
  std::vector<Vec> best_angular, best_euclid;
};

Brute brute_force(const LeechBall& ball, int lo, int hi, const Inputs& in) {
  Eigen::setNbThreads(1);
  const size_t n = in.x.size();
  Eigen::MatrixXf X(kDim, n);
  for (size_t j = 0; j < n; ++j)
    for (int i = 0; i < kDim; ++i) X(i, j) = in.x[j][i];
  constexpr uint64_t kChunk = 4096;
  constexpr size_t kBatch = 512;
  constexpr float kSlack = 1e-3f;  // far above float rounding of a 24-term inner product
  Eigen::MatrixXf P(kChunk, kDim);
  std::vector<Vec> pts(kChunk);
  Brute out;
  out.best_angular.assign(n, Vec{});
  out.best_euclid.assign(n, Vec{});
  for (int m = lo; m <= hi; ++m) {
    std::vector<float> top(n, -INFINITY);
    std::vector<Vec> best(n);
    for (uint64_t base = ball.shell_offset(m); base < ball.shell_offset(m + 1); base += kChunk) {
      const uint64_t count = std::min(kChunk, ball.shell_offset(m + 1) - base);
      for (uint64_t k = 0; k < count; ++k) {
        pts[k] = ball.unrank(base + k);
        for (int i = 0; i < kDim; ++i) P(k, i) = static_cast<float>(pts[k][i]);
      }
      for (size_t j0 = 0; j0 < n; j0 += kBatch) {
        const size_t nb = std::min(kBatch, n - j0);
        const Eigen::MatrixXf ip = P.topRows(count) * X.middleCols(j0, nb);
        const Eigen::VectorXf col_max = ip.colwise().maxCoeff().transpose();
        for (size_t jj = 0; jj < nb; ++jj) {
          const size_t j = j0 + jj;
          if (col_max(jj) <= top[j] - kSlack) continue;
          for (uint64_t k = 0; k < count; ++k) {
            if (ip(k, jj) <= top[j] - kSlack) continue;
            if (top[j] == -INFINITY || dot(in.x[j].data(), pts[k]) > dot(in.x[j].data(), best[j])) best[j] = pts[k];
            top[j] = std::max(top[j], ip(k, jj));
          }
        }
      }
    }
    for (size_t j = 0; j < n; ++j) {
      const float* x = in.x[j].data();
      if (m == lo || angular(x, best[j]) > angular(x, out.best_angular[j])) out.best_angular[j] = best[j];
      if (m == lo || euclid(x, in.scale[j], best[j]) < euclid(x, in.scale[j], out.best_euclid[j]))
        out.best_euclid[j] = best[j];
    }
  }
  return out;
}

void expect_agrees(const LeechBall& ball, const Inputs& in, const Brute& brute, int lo, int hi) {
  size_t bad = 0;
  for (size_t j = 0; j < in.x.size(); ++j) {
    const float* x = in.x[j].data();
    const auto a = ball.search_angular(x, lo, hi);
    const auto e = ball.search_euclidean(x, in.scale[j], lo, hi);
    const double want_a = angular(x, brute.best_angular[j]);
    const double want_e = euclid(x, in.scale[j], brute.best_euclid[j]);
    const bool ok = std::abs(a.score - want_a) <= 1e-9 * (1 + std::abs(want_a)) &&
                    std::abs(e.score - want_e) <= 1e-9 * (1 + want_e) &&
                    std::abs(a.score - angular(x, a.point)) <= 1e-9 &&
                    std::abs(e.score - euclid(x, in.scale[j], e.point)) <= 1e-9 * (1 + want_e) &&
                    ball.rank(a.point) == a.index && ball.rank(e.point) == e.index;
    if (!ok && ++bad <= 5)
      ADD_FAILURE() << "input " << j << ": angular " << a.score << " vs brute " << want_a << ", euclidean "
                    << e.score << " vs brute " << want_e;
  }
  EXPECT_EQ(bad, 0u);
}

TEST(BallSearch, Shell2MatchesBruteForce) {
  const LeechBall& ball = LeechBall::get(13);
  const Inputs in = gaussian_inputs(200, 11);
  const Brute brute = brute_force(ball, 2, 2, in);
  expect_agrees(ball, in, brute, 2, 2);
}

TEST(BallSearch, SlowShell2MatchesBruteForce10000Inputs) {
  const LeechBall& ball = LeechBall::get(13);
  const Inputs in = gaussian_inputs(10000, 1);
  const Brute brute = brute_force(ball, 2, 2, in);
  expect_agrees(ball, in, brute, 2, 2);
}

TEST(BallSearch, SlowShells2To3MatchBruteForce10000Inputs) {
  const LeechBall& ball = LeechBall::get(13);
  const Inputs in = gaussian_inputs(10000, 2);
  const Brute brute = brute_force(ball, 2, 3, in);
  expect_agrees(ball, in, brute, 2, 3);
}

TEST(BallSearch, Shells2To3MatchBruteForceOnTiedInputs) {
  const LeechBall& ball = LeechBall::get(13);
  const Inputs in = small_integer_inputs(300, 5);
  const Brute brute = brute_force(ball, 2, 3, in);
  expect_agrees(ball, in, brute, 2, 3);
}

// Class by class over all of Λ24(13), without bounds, pruning or float: within one class the
// best point for a codeword is the sorted matching of its entries against the class's values
// (docs/lattice.md "Exact search"), so the maximum of <x,v> over the class is the best of that
// over every codeword the class may use. Returns, per input, the best angular score and the best
// Euclidean objective max(0, 2s<x,v> − |v|²) (the origin included).
std::pair<std::vector<double>, std::vector<double>> class_by_class(const LeechBall& ball, const Inputs& in) {
  std::vector<double> best_angular, best_euclid;
  for (size_t j = 0; j < in.x.size(); ++j) {
    const float* x = in.x[j].data();
    // Per codeword, sorted in decreasing order: odd: y_i = ±x_i (+ on the codeword); even (per
    // weight): |x| on it, then |x| off it, and the parity of x's minus signs on it.
    std::vector<std::array<double, kDim>> odd_y(4096);
    for (uint32_t m = 0; m < 4096; ++m) {
      const uint32_t w = golay::codewords()[m];
      for (int i = 0; i < kDim; ++i) odd_y[m][i] = ((w >> i) & 1) ? x[i] : -x[i];
      std::sort(odd_y[m].begin(), odd_y[m].end(), std::greater<>());
    }
    std::map<int, std::vector<std::pair<std::array<double, kDim>, int>>> even_abs;
    for (int weight : {0, 8, 12, 16, 24}) {
      for (uint32_t w : golay::codewords_of_weight(weight)) {
        std::array<double, kDim> a{};
        int on = 0, off = weight, minus = 0;
        for (int i = 0; i < kDim; ++i) {
          a[(w >> i) & 1 ? on++ : off++] = std::abs(x[i]);
          minus += ((w >> i) & 1) && x[i] < 0;
        }
        std::sort(a.begin(), a.begin() + weight, std::greater<>());
        std::sort(a.begin() + weight, a.end(), std::greater<>());
        even_abs[weight].emplace_back(a, minus % 2);
      }
    }
    double top_a = -INFINITY, top_e = 0;
    for (size_t ci = 0; ci < ball.num_classes(); ++ci) {
      const auto info = ball.class_info(ci);
      const auto index = ball.index_info(ci);
      double best_ip = -INFINITY;
      if (info.odd) {
        std::array<double, kDim> b{};
        for (int i = 0; i < kDim; ++i) b[i] = info.leader[i] % 4 == 3 ? info.leader[i] : -double(info.leader[i]);
        std::sort(b.begin(), b.end(), std::greater<>());
        for (const auto& y : odd_y) {
          double ip = 0;
          for (int i = 0; i < kDim; ++i) ip += y[i] * b[i];
          best_ip = std::max(best_ip, ip);
        }
      } else {
        // The class's values: those ≡ 2 mod 4 (on the codeword), then the others, each decreasing.
        std::array<double, kDim> values{};
        int on = 0, off = index.weight;
        for (int a : info.leader) values[a % 4 == 2 ? on++ : off++] = a;
        for (const auto& [a, minus] : even_abs[index.weight]) {
          double ip = 0;
          for (int i = 0; i < kDim; ++i) ip += a[i] * values[i];
          // A wrong parity of minus signs on the codeword negates the smallest product there.
          if (index.weight > 0 && minus != index.minus_parity) ip -= 2 * a[index.weight - 1] * values[index.weight - 1];
          best_ip = std::max(best_ip, ip);
        }
      }
      const double norm2 = 16.0 * info.shell;
      top_a = std::max(top_a, best_ip / std::sqrt(norm2));
      top_e = std::max(top_e, 2 * in.scale[j] * best_ip - norm2);
    }
    best_angular.push_back(top_a);
    best_euclid.push_back(top_e);
  }
  return {best_angular, best_euclid};
}

// Over Λ24(13), Gaussian and tie-heavy inputs, every ISA level: the search's scores equal the
// class-by-class maxima.
void expect_matches_class_by_class(size_t n) {
  const LeechBall& ball = LeechBall::get(13);
  for (const Inputs& in : {gaussian_inputs(n, 8), small_integer_inputs(n, 9)}) {
    const auto [want_a, want_e] = class_by_class(ball, in);
    for (SearchIsa isa : {SearchIsa::Scalar, SearchIsa::Avx2, SearchIsa::Avx512}) {
      if (!lattice::cpu_supports(isa)) continue;
      const lattice::SearchIsaScope scope(isa);
      size_t bad = 0;
      for (size_t j = 0; j < in.x.size(); ++j) {
        const float* x = in.x[j].data();
        const double s = in.scale[j];
        double sq = 0;
        for (int i = 0; i < kDim; ++i) sq += double(x[i]) * x[i];
        const double a = ball.search_angular(x).score, e = ball.search_euclidean(x, s).score;
        const bool ok = std::abs(a - want_a[j]) <= 1e-9 * (1 + std::abs(want_a[j])) &&
                        std::abs(e - (s * s * sq - want_e[j])) <= 1e-9 * (1 + s * s * sq);
        if (!ok && ++bad <= 5)
          ADD_FAILURE() << lattice::to_string(isa) << " input " << j << ": angular " << a << " vs " << want_a[j]
                        << ", euclidean " << e << " vs " << s * s * sq - want_e[j];
      }
      EXPECT_EQ(bad, 0u) << lattice::to_string(isa);
    }
  }
}

TEST(BallSearch, Ball13MatchesClassByClassMaxima) { expect_matches_class_by_class(100); }

TEST(BallSearch, SlowBall13MatchesClassByClassMaxima) { expect_matches_class_by_class(2000); }

// Over Λ24(13): at least as good as the best point of shells 2..3 and as every point a
// randomized local search (steps by short lattice vectors) reaches from the result.
void expect_beats_small_shells_and_local_search(size_t n, uint64_t seed) {
  const LeechBall& ball = LeechBall::get(13);
  const Inputs in = gaussian_inputs(n, seed);
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<uint64_t> step(ball.shell_offset(2), ball.shell_offset(4) - 1);
  size_t bad = 0;
  for (size_t j = 0; j < in.x.size(); ++j) {
    const float* x = in.x[j].data();
    const double s = in.scale[j];
    const auto a = ball.search_angular(x);
    const auto e = ball.search_euclidean(x, s);
    bool ok = a.score >= ball.search_angular(x, 2, 3).score - 1e-12 &&
              e.score <= ball.search_euclidean(x, s, 2, 3).score + 1e-12;
    double sq = 0;
    for (int i = 0; i < kDim; ++i) sq += double(x[i]) * x[i];
    ok = ok && e.score <= s * s * sq + 1e-9;  // the origin is in Λ24(13)
    for (const auto* start : {&a.point, &e.point}) {
      Vec cur = *start;
      for (int t = 0; t < 300; ++t) {
        const Vec d = ball.unrank(step(rng));
        Vec next{};
        for (int i = 0; i < kDim; ++i) next[i] = cur[i] + d[i];
        const int64_t n2 = leech::norm2(next);
        if (n2 == 0 || n2 > 16 * 13) continue;
        ok = ok && angular(x, next) <= a.score + 1e-12 && euclid(x, s, next) >= e.score - 1e-9;
        if (t % 3 == 0) cur = next;  // wander, so the walk also reaches points two steps away
      }
    }
    if (!ok && ++bad <= 5) ADD_FAILURE() << "input " << j;
  }
  EXPECT_EQ(bad, 0u);
}

TEST(BallSearch, Ball13BeatsSmallShellsAndLocalSearch) { expect_beats_small_shells_and_local_search(100, 3); }

TEST(BallSearch, SlowBall13BeatsSmallShellsAndLocalSearch) { expect_beats_small_shells_and_local_search(2000, 33); }

TEST(BallSearch, EuclideanReturnsOriginForTinyInputs) {
  const LeechBall& ball = LeechBall::get(13);
  std::array<float, kDim> x{};
  for (int i = 0; i < kDim; ++i) x[i] = 0.01f * static_cast<float>(i % 5) - 0.02f;
  const auto r = ball.search_euclidean(x.data(), 1.0);
  EXPECT_EQ(r.index, 0u);
  EXPECT_EQ(r.point, Vec{});
  EXPECT_NE(ball.search_euclidean(x.data(), 1.0, 2, 13).index, 0u) << "2..13 excludes the origin";
}

TEST(BallSearch, RejectsBadInput) {
  const LeechBall& ball = LeechBall::get(12);
  std::array<float, kDim> x{};
  x[3] = NAN;
  EXPECT_THROW(ball.search_angular(x.data()), InputError);
  x[3] = INFINITY;
  EXPECT_THROW(ball.search_euclidean(x.data(), 1.0), InputError);
  x[3] = 1;
  EXPECT_THROW(ball.search_euclidean(x.data(), 0.0), InputError);
  EXPECT_THROW(ball.search_euclidean(x.data(), -1.0), InputError);
  EXPECT_THROW(ball.search_angular(x.data(), 2, 13), InputError);
  EXPECT_THROW(ball.search_angular(x.data(), 5, 4), InputError);
  EXPECT_THROW(ball.search_angular(x.data(), 0, 1), InputError);
}

// Every ISA level of the search kernels gives the scalar reference's results, bit for bit
// (index and score), for both metrics and several ball sizes.
TEST(BallSearch, SlowIsaLevelsMatchScalar) {
  using lattice::SearchIsa;
  const Inputs in = gaussian_inputs(10000, 21);
  for (int m : {3, 8, 13}) {
    const LeechBall& ball = LeechBall::get(m);
    auto run = [&](SearchIsa isa) {
      const lattice::SearchIsaScope scope(isa);
      std::vector<LeechBall::Result> out;
      for (size_t j = 0; j < in.x.size(); ++j) {
        out.push_back(ball.search_angular(in.x[j].data()));
        out.push_back(ball.search_euclidean(in.x[j].data(), in.scale[j]));
      }
      return out;
    };
    const auto reference = run(SearchIsa::Scalar);
    for (SearchIsa isa : {SearchIsa::Avx2, SearchIsa::Avx512}) {
      if (!lattice::cpu_supports(isa)) {
        std::printf("M=%d: this CPU lacks %s, not compared\n", m, lattice::to_string(isa).c_str());
        continue;
      }
      const auto got = run(isa);
      size_t bad = 0;
      for (size_t k = 0; k < got.size(); ++k) {
        const bool same = got[k].index == reference[k].index && got[k].score == reference[k].score;
        if (!same && ++bad <= 5)
          ADD_FAILURE() << lattice::to_string(isa) << " M=" << m << " input " << k / 2
                        << (k % 2 ? " euclidean" : " angular") << ": index " << got[k].index << " vs scalar "
                        << reference[k].index;
      }
      EXPECT_EQ(bad, 0u) << lattice::to_string(isa) << " M=" << m;
    }
  }
}

// Scaling x by a power of two scales every inner product exactly, so the angular result and
// the Euclidean one at the inverse scale cannot change. The search normalises Σ|x| by a power
// of two before its float filters; this checks that the normalisation keeps results and ties.
TEST(BallSearch, PowerOfTwoScalingKeepsTheResult) {
  const LeechBall& ball = LeechBall::get(13);
  const Inputs in = gaussian_inputs(300, 17);
  for (int e : {-100, -60, -20, 20, 60, 100}) {
    size_t bad = 0;
    for (size_t j = 0; j < in.x.size(); ++j) {
      std::array<float, kDim> y{};
      for (int i = 0; i < kDim; ++i) y[i] = std::ldexp(in.x[j][i], e);
      const bool same =
          ball.search_angular(y.data()).index == ball.search_angular(in.x[j].data()).index &&
          ball.search_euclidean(y.data(), std::ldexp(in.scale[j], -e)).index ==
              ball.search_euclidean(in.x[j].data(), in.scale[j]).index;
      if (!same && ++bad <= 3) ADD_FAILURE() << "2^" << e << " input " << j;
    }
    EXPECT_EQ(bad, 0u) << "2^" << e;
  }
}

// Inputs at the edges of float's range (near its maximum, tiny normals, denormals, mixtures
// of 1e20 and 1e-20, a single non-zero coordinate) against brute force over the 196,560
// points of shell 2 in double, both metrics, every ISA level the CPU has.
TEST(BallSearch, ExtremeMagnitudesMatchBruteForceOnShell2) {
  const LeechBall& ball = LeechBall::get(2);
  std::vector<Vec> points;
  for (uint64_t k = ball.shell_offset(2); k < ball.shell_offset(3); ++k) points.push_back(ball.unrank(k));
  std::mt19937_64 rng(23);
  std::normal_distribution<double> g;
  std::vector<std::array<float, kDim>> inputs;
  for (double magnitude : {3e38, 1e30, 1e-30, 1e-42}) {
    for (int n = 0; n < 3; ++n) {
      std::array<float, kDim> x{};
      for (float& v : x) v = static_cast<float>(std::clamp(g(rng), -1.1, 1.1) * magnitude);
      inputs.push_back(x);
    }
  }
  for (int n = 0; n < 3; ++n) {
    std::array<float, kDim> x{};
    for (int i = 0; i < kDim; ++i) x[i] = static_cast<float>(g(rng) * (i % 3 == 0 ? 1e20 : i % 3 == 1 ? 1e-20 : 0.0));
    inputs.push_back(x);
  }
  std::array<float, kDim> single{};
  single[7] = -2.0f;
  inputs.push_back(single);
  for (auto isa : {lattice::SearchIsa::Scalar, lattice::SearchIsa::Avx2, lattice::SearchIsa::Avx512}) {
    if (!lattice::cpu_supports(isa)) continue;
    const lattice::SearchIsaScope scope(isa);
    for (size_t j = 0; j < inputs.size(); ++j) {
      const float* x = inputs[j].data();
      double max_abs = 0;
      for (int i = 0; i < kDim; ++i) max_abs = std::max(max_abs, std::abs(double(x[i])));
      const double scale = 4.0 / max_abs;  // s·x of shell-2 size
      double want_a = -INFINITY, want_e = INFINITY;
      for (const Vec& v : points) {
        want_a = std::max(want_a, angular(x, v));
        want_e = std::min(want_e, euclid(x, scale, v));
      }
      const auto a = ball.search_angular(x, 2, 2);
      const auto e = ball.search_euclidean(x, scale, 2, 2);
      EXPECT_NEAR(a.score, want_a, 1e-12 * std::abs(want_a)) << lattice::to_string(isa) << " input " << j;
      EXPECT_NEAR(e.score, want_e, 1e-12 * want_e) << lattice::to_string(isa) << " input " << j;
      EXPECT_NEAR(angular(x, a.point), want_a, 1e-12 * std::abs(want_a)) << lattice::to_string(isa) << " input " << j;
    }
  }
}

TEST(BallSearch, IsaOverrideRejectsUnsupportedLevels) {
  for (auto isa : {lattice::SearchIsa::Scalar, lattice::SearchIsa::Avx2, lattice::SearchIsa::Avx512}) {
    if (lattice::cpu_supports(isa)) {
      const lattice::SearchIsaScope scope(isa);
      EXPECT_EQ(lattice::search_isa(), isa);
    } else {
      EXPECT_THROW(lattice::SearchIsaScope{isa}, InputError);
    }
  }
}

TEST(BallSearch, DeterministicAndThreadSafe) {
  const LeechBall& ball = LeechBall::get(13);
  const Inputs in = gaussian_inputs(400, 5);
  std::vector<uint64_t> serial(in.x.size()), parallel(in.x.size());
  for (size_t j = 0; j < in.x.size(); ++j) serial[j] = ball.search_angular(in.x[j].data()).index;
#pragma omp parallel for num_threads(2)
  for (size_t j = 0; j < in.x.size(); ++j) parallel[j] = ball.search_angular(in.x[j].data()).index;
  EXPECT_EQ(serial, parallel);
}

}  // namespace
}  // namespace llvq
