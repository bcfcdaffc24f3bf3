// Rank/unrank of Λ24(M). Oracles: Leech membership (leech::is_member), the class's own
// leader and shell, the theta series for the size, and round trips.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "llvq/error.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/leech_shells.hpp"

namespace llvq {
namespace {

using leech::Vec;

std::array<uint8_t, leech::kDim> sorted_abs(const Vec& v) {
  std::array<uint8_t, leech::kDim> a{};
  for (int i = 0; i < leech::kDim; ++i) a[i] = static_cast<uint8_t>(std::abs(v[i]));
  std::sort(a.begin(), a.end(), std::greater<>());
  return a;
}

TEST(BallIndex, SizesMatchThetaSeries) {
  for (int m = LeechBall::kMinShell; m <= LeechBall::kMaxShell; ++m) {
    const LeechBall& ball = LeechBall::get(m);
    EXPECT_EQ(shells::u128{ball.size()}, shells::ball_count(m, true)) << "M=" << m;
    EXPECT_EQ(ball.bits(), shells::ceil_log2(shells::ball_count(m, true)));
  }
  EXPECT_EQ(LeechBall::get(13).bits(), 48);
  EXPECT_EQ(LeechBall::get(12).bits(), 47);
  EXPECT_EQ(LeechBall::get(13).num_classes(), 383u);
  EXPECT_EQ(LeechBall::get(12).num_classes(), 301u);
}

TEST(BallIndex, RejectsUnsupportedShells) {
  EXPECT_THROW(LeechBall(1), InputError);
  EXPECT_THROW(LeechBall(LeechBall::kMaxShell + 1), InputError);
  EXPECT_THROW(LeechBall::get(0), InputError);
}

TEST(BallIndex, OriginIsIndexZero) {
  const LeechBall& ball = LeechBall::get(4);
  EXPECT_EQ(ball.unrank(0), Vec{});
  EXPECT_EQ(ball.rank(Vec{}), 0u);
  EXPECT_EQ(ball.shell_offset(2), 1u);
}

// Every index of shells 2 and 3 (16,969,680 points): member of Λ24, on its class's shell
// with its class's leader, and rank inverts unrank. Together with the class sizes summing
// to N(m) this makes the index a bijection onto shells 2..3.
TEST(BallIndex, ExhaustiveRoundTripShells2And3) {
  const LeechBall& ball = LeechBall::get(3);
  ASSERT_EQ(ball.size(), 1u + 196560u + 16773120u);
  size_t failures = 0;
  for (size_t ci = 0; ci < ball.num_classes(); ++ci) {
    const auto info = ball.class_info(ci);
    for (uint64_t i = info.offset; i < info.offset + info.size; ++i) {
      const Vec v = ball.unrank(i);
      const bool ok = leech::is_member(v) && leech::norm2(v) == 16 * info.shell && sorted_abs(v) == info.leader &&
                      ball.rank(v) == i;
      if (!ok && ++failures <= 5) ADD_FAILURE() << "index " << i << " class " << ci;
    }
  }
  EXPECT_EQ(failures, 0u);
}

void check_index(const LeechBall& ball, const LeechBall::ClassInfo& info, uint64_t i) {
  const Vec v = ball.unrank(i);
  ASSERT_TRUE(leech::is_member(v)) << "index " << i;
  ASSERT_EQ(leech::norm2(v), 16 * info.shell) << "index " << i;
  ASSERT_EQ(sorted_abs(v), info.leader) << "index " << i;
  ASSERT_EQ(ball.rank(v), i);
}

TEST(BallIndex, RandomRoundTripsBall13) {
  const LeechBall& ball = LeechBall::get(13);
  std::mt19937_64 rng(20261124);
  // First and last index of every class, and random indices inside every class.
  for (size_t ci = 0; ci < ball.num_classes(); ++ci) {
    const auto info = ball.class_info(ci);
    check_index(ball, info, info.offset);
    check_index(ball, info, info.offset + info.size - 1);
    for (int k = 0; k < 200; ++k) check_index(ball, info, info.offset + rng() % info.size);
  }
  // Uniform indices over the whole ball.
  std::uniform_int_distribution<uint64_t> any(1, ball.size() - 1);
  for (int k = 0; k < 1000000; ++k) {
    const uint64_t i = any(rng);
    const Vec v = ball.unrank(i);
    const int64_t n = leech::norm2(v);
    if (!leech::is_member(v) || n < 32 || n > 16 * 13 || ball.rank(v) != i) {
      FAIL() << "index " << i;
    }
  }
  EXPECT_EQ(ball.shell_offset(14), ball.size());
}

TEST(BallIndex, ShellsAreContiguousAndOrdered) {
  const LeechBall& ball = LeechBall::get(13);
  uint64_t expected = 1;
  int shell = 2;
  for (size_t ci = 0; ci < ball.num_classes(); ++ci) {
    const auto info = ball.class_info(ci);
    EXPECT_EQ(info.offset, expected);
    if (info.shell != shell) {
      EXPECT_EQ(info.shell, shell + 1);
      shell = info.shell;
    }
    if (ci == 0 || ball.class_info(ci - 1).shell != info.shell) {
      EXPECT_EQ(ball.shell_offset(info.shell), info.offset);
    }
    expected += info.size;
  }
  EXPECT_EQ(expected, ball.size());
}

TEST(BallIndex, RejectsPointsOutsideTheBall) {
  const LeechBall& ball = LeechBall::get(3);
  EXPECT_THROW(ball.unrank(ball.size()), InputError);
  EXPECT_THROW(ball.unrank(~uint64_t{0}), InputError);
  Vec mixed{};
  mixed[0] = 1;  // odd and even coordinates
  EXPECT_THROW(ball.rank(mixed), InputError);
  Vec not_codeword{};
  not_codeword[0] = 2;
  not_codeword[1] = 2;
  EXPECT_THROW(ball.rank(not_codeword), InputError);
  Vec bad_sum{};
  bad_sum[0] = 4;  // (4, 0²³): Σ ≡ 4 mod 8
  EXPECT_THROW(ball.rank(bad_sum), InputError);
  Vec shell4{};
  shell4[0] = 8;  // (8, 0²³) is on shell 4
  ASSERT_TRUE(leech::is_member(shell4));
  EXPECT_THROW(ball.rank(shell4), InputError);
  EXPECT_NO_THROW(LeechBall::get(4).rank(shell4));
  Vec huge{};
  huge[0] = 1 << 20;
  EXPECT_THROW(ball.rank(huge), InputError);
  Vec most_negative{};
  most_negative[0] = INT32_MIN;
  EXPECT_THROW(ball.rank(most_negative), InputError);
}

}  // namespace
}  // namespace llvq
