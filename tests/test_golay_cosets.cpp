// The sextet coset layout of the Golay code (src/lattice/golay_cosets.hpp) and the coset_bounds
// kernel of the exact search's coset pruning, against brute force over each coset's codewords.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <random>
#include <set>

#include "lattice/ball_kernels.hpp"
#include "lattice/golay_cosets.hpp"
#include "lattice/search_isa.hpp"
#include "llvq/golay.hpp"

namespace llvq {
namespace {

using lattice::GolayCosets;

uint32_t tetrad_mask(const GolayCosets& c, int k) {
  uint32_t m = 0;
  for (int b : c.tetrad[k]) m |= 1u << b;
  return m;
}

TEST(GolayCosets, TetradsFormASextet) {
  const auto& c = lattice::golay_cosets();
  uint32_t all = 0;
  for (int k = 0; k < GolayCosets::kColumns; ++k) {
    const uint32_t t = tetrad_mask(c, k);
    EXPECT_EQ(std::popcount(t), 4);
    EXPECT_EQ(all & t, 0u) << "tetrads overlap";
    all |= t;
    for (int l = 0; l < k; ++l) EXPECT_TRUE(golay::is_codeword(t | tetrad_mask(c, l))) << k << " " << l;
  }
  EXPECT_EQ(all, golay::kWordMask);
}

// Every coset is its first word plus the 32 even unions of tetrads; item j's complement is
// item j ^ 31; each word sits at its message; the coset's pattern is each member's key.
TEST(GolayCosets, CosetsAreShiftsOfTheEvenTetradUnions) {
  const auto& c = lattice::golay_cosets();
  std::set<uint32_t> even_unions;
  for (uint32_t pick = 0; pick < 64; ++pick) {
    if (std::popcount(pick) % 2) continue;
    uint32_t u = 0;
    for (int k = 0; k < GolayCosets::kColumns; ++k)
      if ((pick >> k) & 1) u |= tetrad_mask(c, k);
    even_unions.insert(u);
  }
  ASSERT_EQ(even_unions.size(), 32u);
  std::set<uint32_t> seen;
  for (int g = 0; g < GolayCosets::kCosets; ++g) {
    const uint32_t first = c.words[32 * g];
    std::set<uint32_t> shifts;
    for (int k = 0; k < GolayCosets::kCosetSize; ++k) {
      const int j = 32 * g + k;
      const uint32_t w = c.words[j];
      ASSERT_EQ(w, golay::codewords()[c.message[j]]) << j;
      ASSERT_EQ(c.words[j ^ 31], w ^ golay::kWordMask) << j;
      ASSERT_TRUE(even_unions.count(w ^ first)) << j;
      shifts.insert(w ^ first);
      seen.insert(w);
      // The pattern: tetrad k's bits with its first position cleared, and the parity of the
      // tetrads whose first position is set.
      uint32_t key = 0, flips = 0;
      for (int t = 0; t < GolayCosets::kColumns; ++t) {
        uint32_t bits = 0;
        for (int b = 0; b < 4; ++b) bits |= ((w >> c.tetrad[t][b]) & 1u) << b;
        if (bits & 1) bits ^= 0xF, flips ^= 1;
        key |= (bits >> 1) << (3 * t);
      }
      ASSERT_EQ(key | flips << 31, c.pattern[g]) << j;
    }
    EXPECT_EQ(shifts.size(), 32u);
  }
  EXPECT_EQ(seen.size(), 4096u);
}

TEST(GolayCosets, WeightRunsPartitionEachWeight) {
  const auto& c = lattice::golay_cosets();
  for (int slot = 0; slot < 3; ++slot) {
    const auto list = golay::codewords_of_weight(8 + 4 * slot);
    ASSERT_EQ(c.weight_words[slot].size(), list.size());
    ASSERT_EQ(c.weight_start[slot][GolayCosets::kCosets], list.size());
    std::set<uint16_t> positions;
    for (int g = 0; g < GolayCosets::kCosets; ++g) {
      const uint32_t* coset = &c.words[32 * g];
      for (size_t j = c.weight_start[slot][g]; j < c.weight_start[slot][g + 1]; ++j) {
        const uint32_t w = c.weight_words[slot][j];
        EXPECT_EQ(list[c.weight_position[slot][j]], w);
        EXPECT_TRUE(std::find(coset, coset + 32, w) != coset + 32) << "slot " << slot << " item " << j;
        positions.insert(c.weight_position[slot][j]);
      }
    }
    EXPECT_EQ(positions.size(), list.size());
  }
}

// The kernel's bound(g) plus the halves is the maximum over coset g of Σ_{i on it} gain_i (to
// float accuracy), at every ISA level the CPU has; `live` marks exactly the cosets at or above
// the level.
TEST(GolayCosets, KernelBoundIsTheCosetMaximum) {
  const auto& c = lattice::golay_cosets();
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 200; ++trial) {
    std::array<double, 24> gain{};
    for (double& g : gain) g = trial % 4 == 3 ? std::round(3 * normal(rng)) : normal(rng);  // ties and zeros
    alignas(64) std::array<float, 16 * GolayCosets::kColumns> column{};
    double scale = 0;
    const double halves = lattice::coset_columns(gain.data(), column.data(), scale);
    std::array<double, GolayCosets::kCosets> exact{};
    for (int g = 0; g < GolayCosets::kCosets; ++g) {
      exact[g] = -1e300;
      for (int k = 0; k < 32; ++k) {
        double s = 0;
        for (int i = 0; i < 24; ++i)
          if ((c.words[32 * g + k] >> i) & 1) s += gain[i];
        exact[g] = std::max(exact[g], s);
      }
    }
    std::array<double, GolayCosets::kCosets> sorted = exact;
    std::sort(sorted.begin(), sorted.end());
    const float level = static_cast<float>(sorted[64] - halves);  // about half the cosets live
    for (auto isa : {lattice::SearchIsa::Scalar, lattice::SearchIsa::Avx2, lattice::SearchIsa::Avx512}) {
      if (!lattice::cpu_supports(isa)) {
        if (trial == 0) std::printf("this CPU lacks %s, not compared\n", lattice::to_string(isa).c_str());
        continue;
      }
      const auto kernels = isa == lattice::SearchIsa::Scalar ? lattice::ball_kernels_scalar()
                           : isa == lattice::SearchIsa::Avx2 ? lattice::ball_kernels_avx2()
                                                             : lattice::ball_kernels_avx512();
      std::array<uint32_t, 4> live{};
      std::array<float, GolayCosets::kCosets> bound{};
      kernels.coset_bounds({column.data(), c.pattern.data(), GolayCosets::kCosets, level, live.data(), bound.data()});
      for (int g = 0; g < GolayCosets::kCosets; ++g) {
        ASSERT_NEAR(bound[g] + halves, exact[g], 1e-5 * scale) << lattice::to_string(isa) << " trial " << trial;
        ASSERT_EQ((live[g / 32] >> (g % 32)) & 1, bound[g] >= level ? 1u : 0u) << g;
      }
    }
  }
}

}  // namespace
}  // namespace llvq
