// The Leech decoder's coset-cost kernels (lattice/coset_kernels.hpp): every ISA level returns
// the same bits as an independent loop over the definition, on random tables full of exact ties
// and on the real decoder's inputs; nearest_point and nearest_point_scaled return the same
// points on every level.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "lattice/coset_kernels.hpp"
#include "leech_oracle.hpp"
#include "llvq/leech.hpp"

namespace {

using llvq::lattice::CosetCostJob;
using llvq::lattice::NibbleTable;
using llvq::lattice::SearchIsa;
using llvq::leech::kDim;
using llvq::leech::Vec;

constexpr SearchIsa kLevels[] = {SearchIsa::Scalar, SearchIsa::Avx2, SearchIsa::Avx512};

// The definition, written out: class k of octad j is the better of its word (nibbles l, u) and
// the complement (15 − l, 15 − u) for each parity; coset (8x + a, 8x + b, 8x + (a ⊕ b)) sums the
// three classes and adds the cheapest class's extra cost when their parities disagree with h.
std::vector<double> oracle(const CosetCostJob<double>& job) {
  double best[3][64], extra[3][64];
  int parity[3][64];
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 64; ++k) {
      const NibbleTable<double>& lo = job.lo[j];
      const NibbleTable<double>& hi = job.hi[j];
      double cost[2] = {1e300, 1e300};  // the cheapest way to parity 0 and to parity 1
      for (int complement = 0; complement < 2; ++complement) {
        const int l = complement ? 15 - job.lo_label[64 * j + k] : job.lo_label[64 * j + k];
        const int u = complement ? 15 - job.hi_label[64 * j + k] : job.hi_label[64 * j + k];
        const double b = lo.best[l] + hi.best[u];
        const double moved = b + std::min(lo.extra[l], hi.extra[u]);
        const int p = static_cast<int>((lo.parity >> l ^ hi.parity >> u) & 1);
        cost[p] = std::min(cost[p], b);
        cost[1 - p] = std::min(cost[1 - p], moved);
      }
      parity[j][k] = cost[1] < cost[0];
      best[j][k] = parity[j][k] ? cost[1] : cost[0];
      extra[j][k] = parity[j][k] ? cost[0] - cost[1] : cost[1] - cost[0];
    }
  std::vector<double> total(512);
  for (int x = 0; x < 8; ++x)
    for (int a = 0; a < 8; ++a)
      for (int b = 0; b < 8; ++b) {
        const int i0 = 8 * x + a, i1 = 8 * x + b, i2 = 8 * x + (a ^ b);
        const double sum = best[0][i0] + best[1][i1] + best[2][i2];
        const double fix = std::min(std::min(extra[0][i0], extra[1][i1]), extra[2][i2]);
        const bool wrong = (parity[0][i0] ^ parity[1][i1] ^ parity[2][i2] ^ job.h) != 0;
        total[static_cast<size_t>(8 * i0 + b)] = wrong ? sum + fix : sum;
      }
  return total;
}

struct RandomJob {
  std::vector<int32_t> lo_label, hi_label;
  CosetCostJob<double> job{};
  std::vector<double> total = std::vector<double>(512);

  // Small integers (many exact ties) or wide doubles; labels 0..15 at random.
  RandomJob(std::mt19937_64& rng, bool ties) : lo_label(192), hi_label(192) {
    std::uniform_int_distribution<int> small(0, 3), label(0, 15), half(0, 1);
    std::uniform_real_distribution<double> wide(0.0, 10.0);
    std::uniform_int_distribution<uint32_t> bits(0, 0xFFFF);
    auto cost = [&] { return ties ? static_cast<double>(small(rng)) : wide(rng); };
    job.h = half(rng);
    for (NibbleTable<double>* t : {&job.lo[0], &job.lo[1], &job.lo[2], &job.hi[0], &job.hi[1], &job.hi[2]}) {
      for (int m = 0; m < 16; ++m) t->best[m] = cost(), t->extra[m] = cost();
      t->parity = bits(rng);
    }
    for (int k = 0; k < 192; ++k) lo_label[k] = label(rng), hi_label[k] = label(rng);
    job.lo_label = lo_label.data();
    job.hi_label = hi_label.data();
    job.total = total.data();
  }
};

TEST(CosetKernels, EveryLevelMatchesTheDefinitionBitForBit) {
  std::mt19937_64 rng(11);
  int levels = 0;
  for (SearchIsa isa : kLevels) {
    if (!llvq::lattice::cpu_supports(isa)) continue;
    ++levels;
    const llvq::lattice::SearchIsaScope scope(isa);
    for (int n = 0; n < 400; ++n) {
      RandomJob r(rng, n % 2 == 0);
      llvq::lattice::coset_costs_kernel()(r.job);
      const std::vector<double> want = oracle(r.job);
      ASSERT_EQ(std::memcmp(r.total.data(), want.data(), 512 * sizeof(double)), 0)
          << llvq::lattice::to_string(isa) << " job " << n;
    }
  }
  EXPECT_GE(levels, 1);
}

TEST(CosetKernels, ExactCostsMatchTheDoubleOnesOnIntegers) {
  std::mt19937_64 rng(12);
  for (int n = 0; n < 100; ++n) {
    RandomJob r(rng, true);
    CosetCostJob<__int128> exact{};
    exact.h = r.job.h;
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 16; ++m) {
        exact.lo[j].best[m] = static_cast<__int128>(r.job.lo[j].best[m]);
        exact.lo[j].extra[m] = static_cast<__int128>(r.job.lo[j].extra[m]);
        exact.hi[j].best[m] = static_cast<__int128>(r.job.hi[j].best[m]);
        exact.hi[j].extra[m] = static_cast<__int128>(r.job.hi[j].extra[m]);
        exact.lo[j].parity = r.job.lo[j].parity;
        exact.hi[j].parity = r.job.hi[j].parity;
      }
    exact.lo_label = r.job.lo_label;
    exact.hi_label = r.job.hi_label;
    std::vector<__int128> total(512);
    exact.total = total.data();
    llvq::lattice::coset_costs_exact(exact);
    const std::vector<double> want = oracle(r.job);
    for (int i = 0; i < 512; ++i) ASSERT_EQ(static_cast<double>(total[i]), want[i]) << "job " << n << " coset " << i;
  }
}

// The decoder on every level: the same points for Gaussian inputs, for integer and half-integer
// inputs (ties between cosets), and for the scaled decoder at dyadic and odd scales.
TEST(CosetKernels, DecoderGivesTheSamePointsOnEveryLevel) {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> g(0.0, 3.0);
  std::uniform_int_distribution<int> coordinate(-40, 40);
  std::vector<std::vector<double>> inputs;
  std::vector<Vec> integers;
  for (int n = 0; n < 300; ++n) {
    std::vector<double> x(kDim);
    for (double& v : x) v = n % 3 == 0 ? g(rng) : std::round(2 * g(rng)) / 2;
    inputs.push_back(x);
    Vec v;
    for (int32_t& c : v) c = coordinate(rng);
    integers.push_back(v);
  }
  std::vector<Vec> want_points, want_scaled;
  for (SearchIsa isa : kLevels) {
    if (!llvq::lattice::cpu_supports(isa)) continue;
    const llvq::lattice::SearchIsaScope scope(isa);
    std::vector<Vec> points, scaled;
    for (const auto& x : inputs) points.push_back(llvq::leech::nearest_point(x.data()));
    for (size_t n = 0; n < integers.size(); ++n)
      scaled.push_back(llvq::leech::nearest_point_scaled(integers[n], n % 2 ? 8 : 7));
    if (want_points.empty()) {
      want_points = points, want_scaled = scaled;
      for (size_t n = 0; n < 40; ++n)  // the first level against brute force
        ASSERT_EQ(scaled[n], leech_oracle::brute_force_exact(integers[n], n % 2 ? 8 : 7)) << "input " << n;
    }
    EXPECT_EQ(points, want_points) << llvq::lattice::to_string(isa);
    EXPECT_EQ(scaled, want_scaled) << llvq::lattice::to_string(isa);
  }
}

}  // namespace
