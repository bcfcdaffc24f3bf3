// LeechBallIndex, the 128-bit index of Λ24(M) for large M: the same index as LeechBall
// wherever both exist, sizes from the theta series, round trips on every class boundary and
// on random indices, and clear errors for points outside the ball.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "leech_oracle.hpp"
#include "llvq/error.hpp"
#include "llvq/leech.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/leech_ball_index.hpp"
#include "llvq/leech_shells.hpp"

namespace {

using llvq::LeechBall;
using llvq::LeechBallIndex;
using llvq::leech::Vec;
using Index = LeechBallIndex::Index;

Index random_below(std::mt19937_64& rng, Index n) { return ((static_cast<Index>(rng()) << 64) | rng()) % n; }

TEST(LeechBallIndex, SizesComeFromTheThetaSeries) {
  for (int m : {2, 13, 24, 44, 53}) {
    const LeechBallIndex& ball = LeechBallIndex::get(m);
    EXPECT_TRUE(ball.size() == llvq::shells::ball_count(m, true)) << m;
    EXPECT_TRUE(ball.shell_offset(m + 1) == ball.size());
    EXPECT_TRUE(ball.class_offset(ball.num_classes()) == ball.size());
  }
  EXPECT_EQ(LeechBallIndex::get(53).bits(), 72);  // the largest ball within 72 bits
  EXPECT_EQ(LeechBallIndex::get(44).bits(), 69);
}

// LeechBall (64-bit, with its own tests against brute force) is the oracle for M ≤ 16.
TEST(LeechBallIndex, SameIndexAsLeechBall) {
  for (int m : {13, 16}) {
    const LeechBall& small = LeechBall::get(m);
    const LeechBallIndex& wide = LeechBallIndex::get(m);
    ASSERT_TRUE(wide.size() == small.size());
    ASSERT_EQ(wide.num_classes(), small.num_classes());
    for (size_t c = 0; c < small.num_classes(); ++c) {
      const LeechBall::ClassInfo info = small.class_info(c);
      ASSERT_TRUE(wide.class_offset(c) == info.offset) << c;
      for (uint64_t i : {info.offset, info.offset + info.size / 2, info.offset + info.size - 1}) {
        ASSERT_EQ(wide.unrank(i), small.unrank(i)) << i;
        ASSERT_TRUE(wide.rank(small.unrank(i)) == i);
      }
    }
    std::mt19937_64 rng(static_cast<uint64_t>(m));
    for (int n = 0; n < 20000; ++n) {
      const uint64_t i = static_cast<uint64_t>(random_below(rng, small.size()));
      const Vec v = small.unrank(i);
      ASSERT_EQ(wide.unrank(i), v);
      ASSERT_TRUE(wide.rank(v) == i);
    }
  }
}

// Shell 2 exhaustively: 196,560 distinct minimal vectors, each ranked back to its index.
TEST(LeechBallIndex, ShellTwoExhaustive) {
  const LeechBallIndex& ball = LeechBallIndex::get(44);
  std::set<Vec> seen;
  for (Index i = 1; i < ball.shell_offset(3); ++i) {
    const Vec v = ball.unrank(i);
    ASSERT_EQ(llvq::leech::norm2(v), 32);
    ASSERT_TRUE(llvq::leech::is_member(v));
    ASSERT_TRUE(ball.rank(v) == i);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 196560u);
}

// The first and last index of every class of Λ24(44): a lattice point on the class's shell
// that ranks back to its index.
TEST(LeechBallIndex, FirstAndLastOfEveryClass) {
  const LeechBallIndex& ball = LeechBallIndex::get(44);
  int shell = 2;
  for (size_t c = 0; c < ball.num_classes(); ++c) {
    while (ball.class_offset(c) >= ball.shell_offset(shell + 1)) ++shell;
    for (Index i : {ball.class_offset(c), ball.class_offset(c + 1) - 1}) {
      const Vec v = ball.unrank(i);
      ASSERT_TRUE(llvq::leech::is_member(v)) << c;
      ASSERT_EQ(llvq::leech::norm2(v), 16 * shell) << c;
      ASSERT_TRUE(ball.rank(v) == i) << c;
    }
  }
  EXPECT_EQ(shell, 44);
}

TEST(LeechBallIndex, SlowMillionRandomRoundTrips) {
  for (int m : {44, 53}) {
    const LeechBallIndex& ball = LeechBallIndex::get(m);
    std::mt19937_64 rng(static_cast<uint64_t>(m) + 100);
    for (int n = 0; n < 1000000; ++n) {
      const Index i = random_below(rng, ball.size());
      const Vec v = ball.unrank(i);
      ASSERT_TRUE(llvq::leech::norm2(v) <= 16 * m);
      ASSERT_TRUE(ball.rank(v) == i) << n;
    }
  }
}

// Points of the ball found independently (the lattice's nearest point to random targets)
// rank to an index that unranks back to them.
TEST(LeechBallIndex, NearestPointsOfRandomTargetsRoundTrip) {
  const LeechBallIndex& ball = LeechBallIndex::get(44);
  std::mt19937_64 rng(44);
  std::normal_distribution<double> g(0.0, 4.5);  // |y|² ≈ 486: most nearest points lie inside
  int checked = 0;
  for (int n = 0; n < 2000; ++n) {
    double y[24];
    for (double& e : y) e = g(rng);
    const Vec v = llvq::leech::nearest_point(y);
    if (llvq::leech::norm2(v) > 16 * 44) continue;
    ++checked;
    ASSERT_EQ(ball.unrank(ball.rank(v)), v);
  }
  EXPECT_GT(checked, 1500);
}

// The direction search over Λ24(45) (the 3-bit llvq-sg codebook) returns a point of the
// ball with its index and cosine, and never an angle worse than the exact search over the
// smaller ball Λ24(16) that it contains (LeechBall, checked against brute force elsewhere).
TEST(LeechBallIndex, DirectionSearchBeatsTheExactSearchOfTheSmallerBall) {
  const LeechBallIndex& ball = LeechBallIndex::get(45);
  const LeechBall& small = LeechBall::get(16);
  std::mt19937_64 rng(45);
  std::normal_distribution<float> g;
  for (int n = 0; n < 2000; ++n) {
    float x[24];
    double xx = 0;
    for (float& e : x) e = g(rng), xx += double(e) * e;
    const llvq::leech::Direction d = ball.search_direction(x);
    ASSERT_LE(llvq::leech::norm2(d.point), 16 * 45);
    ASSERT_GT(llvq::leech::norm2(d.point), 0);
    ASSERT_TRUE(ball.rank(d.point) == d.index);
    double dot = 0;
    for (int i = 0; i < 24; ++i) dot += x[i] * double(d.point[i]);
    ASSERT_NEAR(d.cosine, dot / std::sqrt(xx * double(llvq::leech::norm2(d.point))), 1e-12);
    EXPECT_GE(d.cosine, small.search_angular(x).score / std::sqrt(xx)) << n;
  }
  const float zero[24] = {};
  EXPECT_EQ(ball.search_direction(zero).cosine, 0.0);
  EXPECT_GT(llvq::leech::norm2(ball.search_direction(zero).point), 0);
  float bad[24] = {};
  bad[0] = std::nanf("");
  EXPECT_THROW(ball.search_direction(bad), llvq::InputError);
  EXPECT_THROW(LeechBallIndex::get(4).search_direction(zero), llvq::InputError);
}

TEST(LeechBallIndex, BadInputIsAnError) {
  EXPECT_THROW(LeechBallIndex(1), llvq::InputError);
  EXPECT_THROW(LeechBallIndex(LeechBallIndex::kMaxShell + 1), llvq::InputError);
  const LeechBallIndex& ball = LeechBallIndex::get(44);
  EXPECT_THROW(ball.unrank(ball.size()), llvq::InputError);
  EXPECT_THROW(ball.unrank(~Index{0}), llvq::InputError);
  Vec not_lattice{};
  not_lattice[0] = 4;
  EXPECT_THROW(ball.rank(not_lattice), llvq::InputError);
  Vec mixed{};
  mixed[0] = 1;
  EXPECT_THROW(ball.rank(mixed), llvq::InputError);
  Vec outside{};  // (28, 12, 0²²): on shell 58 > 44, a lattice point
  outside[0] = 28, outside[1] = 12;
  ASSERT_TRUE(llvq::leech::is_member(outside));
  EXPECT_THROW(ball.rank(outside), llvq::InputError);
  Vec huge{};
  huge[0] = 36, huge[1] = 4;
  ASSERT_TRUE(llvq::leech::is_member(huge));
  EXPECT_THROW(ball.rank(huge), llvq::InputError);
  EXPECT_THROW(ball.shell_offset(1), llvq::InputError);
  EXPECT_THROW(ball.shell_offset(46), llvq::InputError);
}

}  // namespace
