// E8P: the codebook has the structure QuIP# describes, and the pattern search finds the
// same nearest codeword as brute force over all 65,536 codewords.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "codec/codec_impl.hpp"
#include "codec_test_util.hpp"

namespace {

using llvq::e8p_codeword;
using llvq::codec_detail::e8p_nearest;

TEST(E8p, CodebookIsShiftedHalfIntegerE8PointsAllDistinct) {
  std::set<std::array<double, 8>> seen;
  std::set<std::array<double, 8>> abs_patterns;
  for (uint32_t code = 0; code < 65536; ++code) {
    const auto y = e8p_codeword(code);
    ASSERT_TRUE(seen.insert(y).second) << "duplicate codeword " << code;
    const double shift = (code >> 15) ? -0.25 : 0.25;
    double sum = 0, norm2 = 0;
    std::array<double, 8> a;
    for (int i = 0; i < 8; ++i) {
      const double b = y[i] - shift;
      ASSERT_DOUBLE_EQ(b - std::floor(b), 0.5);  // half-integer
      sum += b, norm2 += b * b, a[i] = std::abs(b);
    }
    ASSERT_EQ(std::fmod(sum, 2.0), 0.0) << "odd coordinate sum: not in E8";
    ASSERT_TRUE(norm2 <= 10 || norm2 == 12) << norm2;
    abs_patterns.insert(a);
  }
  EXPECT_EQ(abs_patterns.size(), 256u);
}

TEST(E8p, NearestEqualsBruteForceOverAll65536Codewords) {
  std::vector<std::array<double, 8>> book(65536);
  for (uint32_t c = 0; c < 65536; ++c) book[c] = e8p_codeword(c);
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> normal(0.0, 1.1);
  for (int t = 0; t < 2000; ++t) {
    double u[8];
    for (double& v : u) v = normal(rng);
    double best = INFINITY;
    uint32_t best_code = 0;
    for (uint32_t c = 0; c < 65536; ++c) {
      double d = 0;
      for (int i = 0; i < 8; ++i) d += (u[i] - book[c][i]) * (u[i] - book[c][i]);
      if (d < best) best = d, best_code = c;
    }
    const uint32_t got = e8p_nearest(u);
    double d = 0;
    for (int i = 0; i < 8; ++i) d += (u[i] - book[got][i]) * (u[i] - book[got][i]);
    EXPECT_NEAR(d, best, 1e-12) << "trial " << t;
    EXPECT_EQ(got, best_code) << "trial " << t;
  }
}

TEST(E8p, RoundTripsPerRowAndPerGroup) {
  for (const char* spec : {"e8p", "e8p:group=64"}) {
    const auto c = llvq::make_codec(spec);
    const double rel = codec_test::check_round_trip(*c, 4, 512, 17);
    EXPECT_LT(rel, 0.10) << spec;  // 2 bits per weight: well under Lloyd–Max's 0.1175
    EXPECT_GT(rel, 0.0625) << spec;  // and never below the Shannon bound
  }
  EXPECT_DOUBLE_EQ(llvq::make_codec("e8p")->bits_per_weight(4096), 2.0 + 16.0 / 4096);
}

TEST(E8p, DecodesEveryCodeBitExactly) {
  // Serialization: code c decodes to codeword c times the scale, for every 16-bit value.
  const auto c = llvq::make_codec("e8p");
  const llvq::RowSide side{8, {0.5f}};
  llvq::BitWriter w;
  for (uint32_t code = 0; code < 65536; ++code) w.put(code, 16);
  const auto bytes = w.bytes();
  llvq::BitReader r(bytes.data(), bytes.size());
  float out[8];
  for (uint32_t code = 0; code < 65536; ++code) {
    c->decode_block(side, 0, r, out);
    const auto y = e8p_codeword(code);
    for (int i = 0; i < 8; ++i) ASSERT_EQ(out[i], static_cast<float>(y[i] * 0.5)) << code;
  }
}

}  // namespace
