// PVQ: Fischer's enumeration checked exhaustively against a brute-force listing of small
// pyramids, and the codec's round trips with 128-bit and 256-bit indices.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "codec/codec_impl.hpp"
#include "codec_test_util.hpp"
#include "llvq/error.hpp"

namespace {

using namespace llvq::codec_detail;

// All y ∈ Z^L with Σ|y_i| = K, listed by brute force over the box [−K, K]^L.
std::vector<std::vector<int>> list_pyramid(int L, int K) {
  std::vector<std::vector<int>> out;
  std::vector<int> y(static_cast<size_t>(L), -K);
  while (true) {
    int s = 0;
    for (int v : y) s += std::abs(v);
    if (s == K) out.push_back(y);
    int i = 0;
    while (i < L && y[static_cast<size_t>(i)] == K) y[static_cast<size_t>(i++)] = -K;
    if (i == L) break;
    ++y[static_cast<size_t>(i)];
  }
  return out;
}

// The enumeration order: coordinates left to right, each ordered 0, +1, −1, +2, −2, ...
bool enumeration_less(const std::vector<int>& a, const std::vector<int>& b) {
  auto key = [](int v) { return v == 0 ? 0 : 2 * std::abs(v) - (v > 0); };
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return key(a[i]) < key(b[i]);
  return false;
}

TEST(Pvq, EnumerationIsExhaustivelyTheSortedPyramid) {
  for (int L = 1; L <= 5; ++L)
    for (int K = 0; K <= 6; ++K) {
      auto points = list_pyramid(L, K);
      std::sort(points.begin(), points.end(), enumeration_less);
      ASSERT_EQ(pvq_count(L, K), static_cast<unsigned __int128>(points.size())) << L << "," << K;
      std::vector<int> y(static_cast<size_t>(L));
      for (size_t i = 0; i < points.size(); ++i) {
        ASSERT_EQ(pvq_rank(L, K, points[i].data()), static_cast<unsigned __int128>(i)) << L << "," << K;
        pvq_unrank(L, K, i, y.data());
        ASSERT_EQ(y, points[i]) << L << "," << K << " index " << i;
      }
    }
}

TEST(Pvq, CountsMatchTheClosedForm) {
  // |S(L,K)| = Σ_i 2^i C(L,i) C(K−1,i−1) (i nonzero coordinates).
  auto binom = [](int n, int k) {
    double r = 1;
    for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
    return k < 0 || k > n ? 0.0 : r;
  };
  for (int L : {8, 24})
    for (int K : {1, 5, 12}) {
      double expect = 0;
      for (int i = 1; i <= std::min(L, K); ++i) expect += std::exp2(i) * binom(L, i) * binom(K - 1, i - 1);
      EXPECT_DOUBLE_EQ(static_cast<double>(pvq_count(L, K)), expect) << L << "," << K;
    }
}

TEST(Pvq, RoundTripsWith128And256BitIndices) {
  for (const char* spec : {"pvq", "pvq:bpw=3", "pvq:bpw=4,gain_bits=4", "pvq:dim=64,bpw=3", "pvq:dim=8,k=3,gain_bits=0"}) {
    const auto c = llvq::make_codec(spec);
    const size_t n = c->block_dim() * 8;
    const double rel = codec_test::check_round_trip(*c, 3, n, 5);
    EXPECT_LT(rel, 1.0) << spec;
    EXPECT_EQ(llvq::make_codec(c->spec())->spec(), c->spec());
  }
  const auto c = llvq::make_codec("pvq:dim=64,bpw=3");
  EXPECT_GT(c->block_bits(), 128u);  // exercises the 256-bit path
  EXPECT_LE(c->block_bits(), 192u);
}

TEST(Pvq, RejectsOutOfRangeIndicesAndUnsupportedSizes) {
  const auto c = llvq::make_codec("pvq:dim=4,k=3,gain_bits=0");  // V(4,3) = 66 → 7 bits
  ASSERT_EQ(c->block_bits(), 7u);
  const std::vector<uint8_t> bytes = {0x7F, 0, 0, 0};
  llvq::BitReader r(bytes.data(), bytes.size());
  const llvq::RowSide side{4, {1.0f}};
  float out[4];
  EXPECT_THROW(c->decode_block(side, 0, r, out), llvq::InputError);
  EXPECT_THROW(llvq::make_codec("pvq:dim=512,bpw=4"), llvq::InputError);  // > 256 index bits
  EXPECT_THROW(llvq::make_codec("pvq:bpw=2,k=5"), llvq::InputError);
  EXPECT_THROW(llvq::make_codec("pvq:bpw=0.05,dim=8"), llvq::InputError);
}

}  // namespace
