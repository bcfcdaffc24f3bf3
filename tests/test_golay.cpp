#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <random>

#include "llvq/golay.hpp"

namespace {
using namespace llvq::golay;

TEST(Golay, WeightDistribution) {
  std::map<int, int> count;
  for (uint32_t c : codewords()) ++count[std::popcount(c)];
  EXPECT_EQ(count, (std::map<int, int>{{0, 1}, {8, 759}, {12, 2576}, {16, 759}, {24, 1}}));
  EXPECT_EQ(codewords_of_weight(8).size(), 759u);
  EXPECT_EQ(codewords_of_weight(12).size(), 2576u);
  EXPECT_TRUE(codewords_of_weight(5).empty());
}

TEST(Golay, LinearAndMinimumDistance) {
  const auto& cw = codewords();
  for (uint32_t a = 0; a < 4096; a += 37)
    for (uint32_t b = 0; b < 4096; b += 53) {
      EXPECT_EQ(cw[a] ^ cw[b], encode(a ^ b));
      if (a != b) {
        EXPECT_GE(std::popcount(cw[a] ^ cw[b]), 8);
      }
    }
}

TEST(Golay, EncodeDecodeRoundTrip) {
  for (uint32_t m = 0; m < 4096; ++m) {
    const uint32_t c = encode(m);
    ASSERT_TRUE(is_codeword(c));
    ASSERT_EQ(decode(c), m);
    ASSERT_EQ(codewords_of_weight(std::popcount(c))[*index_in_weight_class(c)], c);
  }
  EXPECT_THROW(encode(4096), std::invalid_argument);
}

TEST(Golay, NonCodewordsRejected) {
  // Every word at Hamming distance 1..3 from a codeword is not a codeword (d = 8).
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    uint32_t c = encode(rng() & 0xFFF);
    uint32_t flips = 0;
    const int n = 1 + trial % 3;
    while (std::popcount(flips) < n) flips |= 1u << (rng() % 24);
    EXPECT_FALSE(is_codeword(c ^ flips));
    EXPECT_FALSE(decode(c ^ flips).has_value());
  }
  EXPECT_FALSE(is_codeword(1u << 24));
}

TEST(Golay, ContainAvoidFilter) {
  const uint32_t contain = 0b111, avoid = 0b11000;
  const auto list = codewords_with(8, contain, avoid);
  size_t brute = 0;
  for (uint32_t c : codewords_of_weight(8)) brute += (c & contain) == contain && !(c & avoid);
  EXPECT_EQ(list.size(), brute);
  // Three points of 24 lie on exactly 21 octads.
  EXPECT_EQ(codewords_with(8, 0b111, 0).size(), 21u);
  for (uint32_t c : list) EXPECT_TRUE((c & contain) == contain && !(c & avoid));
}

TEST(Golay, SteinerSystemFivePointsOneOctad) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 5000; ++trial) {
    uint32_t five = 0;
    while (std::popcount(five) < 5) five |= 1u << (rng() % 24);
    const uint32_t o = octad_through(five);
    EXPECT_EQ(std::popcount(o), 8);
    EXPECT_EQ(o & five, five);
    EXPECT_EQ(codewords_with(8, five, 0).size(), 1u);
  }
  EXPECT_THROW(octad_through(0b1111), std::invalid_argument);
}

// The search's coset layout pairs codeword m with its complement, message 4095 − m
// (src/lattice/golay_cosets.cpp): that relies on the systematic encoding giving the all-ones
// word the all-ones message.
TEST(Golay, ComplementIsTheComplementedMessage) {
  const auto& words = codewords();
  for (uint32_t m = 0; m < 4096; ++m) ASSERT_EQ(words[m ^ 0xFFF], words[m] ^ 0xFFFFFFu) << m;
}
}  // namespace
