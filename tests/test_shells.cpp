// Theta series, class enumeration and closed-form class sizes. Oracles: the published shell
// sizes and class counts (docs/background.md §1), and the identity Σ class sizes = N(m).
#include <gtest/gtest.h>

#include <set>

#include "llvq/error.hpp"
#include "llvq/leech_shells.hpp"

namespace llvq::shells {
namespace {

TEST(Theta, MatchesPublishedShellSizes) {
  const std::vector<std::string> published = {
      "196560",         "16773120",       "398034000",      "4629381120",     "34417656000",
      "187489935360",   "814879774800",   "2975551488000",  "9486551299680",  "27052945920000",
      "70486236999360", "169931095326720", "384163586352000"};
  for (int m = 2; m <= 14; ++m) EXPECT_EQ(to_decimal(theta_count(m)), published[m - 2]) << "m=" << m;
  EXPECT_EQ(theta_count(0), u128{1});
  EXPECT_EQ(theta_count(1), u128{0});
}

TEST(Theta, BallSizesAndBits) {
  EXPECT_EQ(to_decimal(ball_count(12, false)), "111043117458000");
  EXPECT_EQ(to_decimal(ball_count(13, false)), "280974212784720");
  const std::vector<std::pair<int, int>> bits = {{2, 18}, {3, 25}, {4, 29}, {5, 33}, {12, 47}, {13, 48}};
  for (auto [m, b] : bits) EXPECT_EQ(ceil_log2(ball_count(m, false)), b) << "M=" << m;
  // Published: M = 53 is the largest ball within 72 bits, M = 214 within 96 bits.
  EXPECT_LE(ceil_log2(ball_count(53, false)), 72);
  EXPECT_GT(ceil_log2(ball_count(54, false)), 72);
  EXPECT_LE(ceil_log2(ball_count(214, false)), 96);
  EXPECT_GT(ceil_log2(ball_count(215, false)), 96);
}

TEST(Theta, RejectsShellsOutOfRange) {
  EXPECT_THROW(theta_count(-1), InputError);
  EXPECT_THROW(theta_count(kMaxThetaShell + 1), InputError);
  EXPECT_THROW(classes_of_shell(1), InputError);
  EXPECT_THROW(classes_of_shell(kMaxClassShell + 1), InputError);
}

TEST(Classes, SumExactlyToThetaSeries) {
  for (int m = 2; m <= kMaxClassShell; ++m) {
    u128 total = 0;
    for (const LeechClass& c : classes_of_shell(m)) total += c.size;
    EXPECT_EQ(to_decimal(total), to_decimal(theta_count(m))) << "m=" << m;
  }
}

TEST(Classes, CountsPerShellMatchPublished) {
  const std::vector<size_t> published = {3, 4, 8, 9, 17, 17, 30, 33, 47, 54, 79, 82, 115};
  size_t up_to_12 = 0, up_to_13 = 0;
  for (int m = 2; m <= 14; ++m) {
    const size_t n = classes_of_shell(m).size();
    EXPECT_EQ(n, published[m - 2]) << "m=" << m;
    if (m <= 12) up_to_12 += n;
    if (m <= 13) up_to_13 += n;
  }
  EXPECT_EQ(up_to_12, 301u);
  EXPECT_EQ(up_to_13, 383u);
}

TEST(Classes, MinimalShellStructure) {
  const auto classes = classes_of_shell(2);
  ASSERT_EQ(classes.size(), 3u);
  std::multiset<uint64_t> sizes;
  for (const auto& c : classes) sizes.insert(c.size);
  EXPECT_EQ(sizes, (std::multiset<uint64_t>{97152, 98304, 1104}));
}

TEST(Classes, LeadersAreConsistent) {
  for (int m = 2; m <= 14; ++m) {
    std::set<std::pair<bool, std::array<uint8_t, kDim>>> seen;
    for (const LeechClass& c : classes_of_shell(m)) {
      int norm = 0;
      for (int i = 0; i < kDim; ++i) {
        norm += c.leader[i] * c.leader[i];
        EXPECT_EQ(c.leader[i] % 2 == 1, c.odd);
        if (i > 0) {
          EXPECT_GE(c.leader[i - 1], c.leader[i]);
        }
      }
      EXPECT_EQ(norm, 16 * m);
      EXPECT_EQ(c.size, class_size(c.leader, c.odd));
      EXPECT_TRUE(seen.insert({c.odd, c.leader}).second) << "duplicate class in shell " << m;
    }
  }
}

TEST(Classes, InvalidLeadersHaveSizeZero) {
  // Two values ≡ 2 mod 4: not a Golay weight.
  std::array<uint8_t, kDim> two_twos{};
  two_twos[0] = two_twos[1] = 2;
  EXPECT_EQ(class_size(two_twos, false), 0u);
  // (4, 0²³): Σ|x| = 4 ≢ 0 mod 8.
  std::array<uint8_t, kDim> single_four{};
  single_four[0] = 4;
  EXPECT_EQ(class_size(single_four, false), 0u);
  // (3², 1²²): an even number (22) of values ≡ ±1 mod 8.
  std::array<uint8_t, kDim> odd_bad{};
  odd_bad.fill(1);
  odd_bad[0] = odd_bad[1] = 3;
  EXPECT_EQ(class_size(odd_bad, true), 0u);
}

}  // namespace
}  // namespace llvq::shells
