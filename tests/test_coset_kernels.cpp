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
using llvq::lattice::SearchIsa;
using llvq::leech::kDim;
using llvq::leech::Vec;

using Cost = double;  // the kernels' costs

constexpr SearchIsa kLevels[] = {SearchIsa::Scalar, SearchIsa::Avx2, SearchIsa::Avx512};

// The definition, written out: pattern m of four coordinates puts coordinate l on the codeword
// where bit l of m is set (costs summed over l in order, the extra cost the least, the parities
// xor-ed); class k of octad j is the better of its word (nibbles l, u) and the complement
// (15 − l, 15 − u) for each parity; coset (8x + a, 8x + b, 8x + (a ⊕ b)) sums the three classes
// and adds the cheapest class's extra cost when their parities disagree with h.
struct Pattern {
  Cost best, extra;
  int parity;
};

Pattern pattern(const CosetCostJob<Cost>& job, const int* pos, int m) {
  Pattern out{};
  for (int l = 0; l < 4; ++l) {
    const bool on = (m >> l & 1) != 0;
    const auto& c = on ? job.on : job.off;
    const int i = pos[l];
    out.best = l == 0 ? c.best[i] : out.best + c.best[i];
    out.extra = l == 0 ? c.extra[i] : std::min(out.extra, c.extra[i]);
    out.parity ^= static_cast<int>(c.parity >> i & 1);
  }
  return out;
}

std::vector<Cost> oracle(const CosetCostJob<Cost>& job) {
  Cost best[3][64], extra[3][64];
  int parity[3][64];
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 64; ++k) {
      Cost cost[2];  // the cheapest way to parity 0 and to parity 1
      for (int complement = 0; complement < 2; ++complement) {
        const int l = complement ? 15 - job.lo_label[64 * j + k] : job.lo_label[64 * j + k];
        const int u = complement ? 15 - job.hi_label[64 * j + k] : job.hi_label[64 * j + k];
        const Pattern lo = pattern(job, job.positions + 8 * j, l), hi = pattern(job, job.positions + 8 * j + 4, u);
        const Cost b = lo.best + hi.best;
        const Cost moved = b + std::min(lo.extra, hi.extra);
        const int p = lo.parity ^ hi.parity;
        cost[p] = complement ? std::min(cost[p], b) : b;
        cost[1 - p] = complement ? std::min(cost[1 - p], moved) : moved;
      }
      parity[j][k] = cost[1] < cost[0];
      best[j][k] = parity[j][k] ? cost[1] : cost[0];
      extra[j][k] = parity[j][k] ? cost[0] - cost[1] : cost[1] - cost[0];
    }
  std::vector<Cost> total(512);
  for (int x = 0; x < 8; ++x)
    for (int a = 0; a < 8; ++a)
      for (int b = 0; b < 8; ++b) {
        const int i0 = 8 * x + a, i1 = 8 * x + b, i2 = 8 * x + (a ^ b);
        const Cost sum = best[0][i0] + best[1][i1] + best[2][i2];
        const Cost fix = std::min(std::min(extra[0][i0], extra[1][i1]), extra[2][i2]);
        const bool wrong = (parity[0][i0] ^ parity[1][i1] ^ parity[2][i2] ^ job.h) != 0;
        total[static_cast<size_t>(8 * i0 + b)] = wrong ? sum + fix : sum;
      }
  return total;
}

// Random soft triples for the 24 coordinates — small integers (many exact ties) or wide
// doubles — random parities, octads and labels 0..15.
struct RandomJob {
  std::vector<Cost> columns = std::vector<Cost>(4 * kDim);  // off best, off extra, on best, on extra
  std::vector<int> positions = std::vector<int>(kDim);
  std::vector<int32_t> lo_label = std::vector<int32_t>(192), hi_label = std::vector<int32_t>(192);
  std::vector<Cost> total = std::vector<Cost>(512);
  CosetCostJob<Cost> job{};

  RandomJob(std::mt19937_64& rng, bool ties) {
    std::uniform_int_distribution<int> small(0, 3), label(0, 15), half(0, 1);
    std::uniform_real_distribution<double> wide(0.0, 10.0);
    std::uniform_int_distribution<uint32_t> bits(0, (1u << kDim) - 1);
    for (Cost& c : columns) c = ties ? static_cast<Cost>(small(rng)) : static_cast<Cost>(wide(rng));
    for (int i = 0; i < kDim; ++i) positions[static_cast<size_t>(i)] = i;
    std::shuffle(positions.begin(), positions.end(), rng);
    for (int k = 0; k < 192; ++k) lo_label[static_cast<size_t>(k)] = label(rng), hi_label[static_cast<size_t>(k)] = label(rng);
    job.h = half(rng);
    job.off = {columns.data(), columns.data() + kDim, bits(rng)};
    job.on = {columns.data() + 2 * kDim, columns.data() + 3 * kDim, bits(rng)};
    job.positions = positions.data();
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
      const double minimum = llvq::lattice::coset_kernels().costs(r.job);
      const std::vector<double> want = oracle(r.job);
      ASSERT_EQ(std::memcmp(r.total.data(), want.data(), 512 * sizeof(double)), 0)
          << llvq::lattice::to_string(isa) << " job " << n;
      ASSERT_EQ(minimum, *std::min_element(want.begin(), want.end())) << llvq::lattice::to_string(isa) << " job " << n;
    }
  }
  EXPECT_GE(levels, 1);
}

// The bound test on every level against a plain loop: bounds at the minimum (exact ties in the
// small-integer jobs), at a cost taken from the middle of the list, below every cost, and at
// the largest cost.
TEST(CosetKernels, WithinMatchesALoopOnEveryLevel) {
  std::mt19937_64 rng(12);
  for (SearchIsa isa : kLevels) {
    if (!llvq::lattice::cpu_supports(isa)) continue;
    const llvq::lattice::SearchIsaScope scope(isa);
    const llvq::lattice::CosetKernels& k = llvq::lattice::coset_kernels();
    for (int n = 0; n < 100; ++n) {
      RandomJob r(rng, n % 2 == 0);
      const double minimum = k.costs(r.job);
      const double largest = *std::max_element(r.total.begin(), r.total.end());
      for (double bound : {minimum, r.total[static_cast<size_t>(n) * 5 % 512], minimum - 1.0, largest}) {
        uint64_t bits[8];
        k.within(r.total.data(), bound, bits);
        for (size_t t = 0; t < 512; ++t)
          ASSERT_EQ((bits[t / 64] >> (t % 64) & 1) != 0, r.total[t] <= bound)
              << llvq::lattice::to_string(isa) << " job " << n << " bound " << bound << " cost " << t;
      }
    }
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
