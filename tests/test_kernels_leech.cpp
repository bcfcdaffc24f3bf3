// Leech kernels (src/kernels/leech_*). Oracles: LeechBall::unrank and Codec::decode_rows (the
// codec's own decoder), the minimal bitstream itself (to_codes round trip), a double-precision
// GEMV over the codec's decoded matrix, and the scalar reference for every SIMD level
// (`llvq bench leech-decode`: cli/test_kernels_leech_cli.cpp).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "codec/codec_impl.hpp"
#include "kernels/kernels_impl.hpp"
#include "kernels/leech_block.hpp"
#include "kernels/leech_tables.hpp"
#include "kernels/octet_word.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/kernels.hpp"
#include "llvq/leech_ball.hpp"
#include "random.hpp"

namespace llvq {
namespace {

using kernels::Isa;

std::unique_ptr<kernels::leech::BlockTables> tables_of(const std::string& spec) {
  const auto codec = make_codec(spec);
  const KernelLayout layout = codec->kernel_layout();
  EXPECT_TRUE(std::holds_alternative<LeechLayout>(layout)) << spec;
  return kernels::leech::make_block_tables(std::get<LeechLayout>(layout));
}

void expect_split_matches_unrank(const kernels::leech::BlockTables& t, const LeechBall& ball, uint64_t index) {
  const uint32_t gain = t.gain_bits > 0 ? 1 : 0;
  const uint64_t word = kernels::leech::leech_split(t, gain, index);
  ASSERT_EQ(kernels::leech::leech_join(t, word), index);
  ASSERT_EQ(kernels::leech::gain_of(t, word), gain);
  int32_t v[24];
  kernels::leech::decode_point(t, word, v);
  const leech::Vec want = ball.unrank(index);
  for (int i = 0; i < 24; ++i) ASSERT_EQ(v[i], want[i]) << "index " << index << " position " << i;
  // The direct decode of the minimal code (the profile's minimal path) agrees too.
  kernels::leech::MinimalDigits d;
  kernels::leech::PointMasks p;
  kernels::leech::minimal_digits(t, index, d);
  kernels::leech::minimal_masks(t, d, p);
  kernels::leech::expand_point(p, v);
  for (int i = 0; i < 24; ++i) ASSERT_EQ(v[i], want[i]) << "minimal path, index " << index << " position " << i;
}

// The split combination rank is a bijection onto [0, C(n, k)) for every n ≤ 24 (all subsets
// for n ≤ 16, seeded random subsets above), and unrank_level inverts rank_level.
TEST(LeechKernels, SplitCombinationRankIsABijection) {
  const auto t = tables_of("llvq-ss:shells=2");
  for (int n = 0; n <= 16; ++n) {
    std::vector<std::vector<bool>> seen(n + 1);
    std::vector<uint64_t> size(n + 1, 1);
    for (int k = 1; k <= n; ++k) size[k] = size[k - 1] * (n - k + 1) / k;
    for (int k = 0; k <= n; ++k) seen[k].assign(size[k], false);
    for (uint32_t m = 0; m < (1u << n); ++m) {
      const int k = std::popcount(m);
      const uint32_t r = kernels::leech::rank_level(*t, m, n, k);
      ASSERT_LT(r, size[k]) << "n=" << n << " mask=" << m;
      ASSERT_FALSE(seen[k][r]) << "n=" << n << " mask=" << m;
      seen[k][r] = true;
      ASSERT_EQ(kernels::leech::unrank_level(*t, r, n, k), m);
    }
  }
  std::mt19937_64 rng(5);
  for (int n = 17; n <= 24; ++n)
    for (int i = 0; i < 20000; ++i) {
      const uint32_t m = static_cast<uint32_t>(rng()) & ((1u << n) - 1);
      const int k = std::popcount(m);
      const uint32_t r = kernels::leech::rank_level(*t, m, n, k);
      ASSERT_EQ(kernels::leech::unrank_level(*t, r, n, k), m) << "n=" << n << " mask=" << m;
      ASSERT_EQ(kernels::leech::colex_rank(*t, kernels::leech::unrank_combination(*t, r, k)), r);
    }
}

// Every ball the codecs use fits the split word (≤ 64 bits, class ids suffice).
TEST(LeechKernels, SplitWordFitsEveryBall) {
  for (int m = 2; m <= LeechBall::kMaxShell; ++m) {
    const auto t = tables_of("llvq-ss:shells=" + std::to_string(m));
    EXPECT_EQ(t->num_classes, static_cast<int>(LeechBall::get(m).num_classes() + 1));
  }
  for (int g : {0, 1, 2, 4}) tables_of("llvq-sg:bpw=2,gain_bits=" + std::to_string(g));
}

// The first and last point of every class and random points: decode of the split word equals
// LeechBall::unrank, and join inverts split.
TEST(LeechKernels, SplitWordDecodesLikeUnrank) {
  for (int m : {2, 5, 10, 13, 16}) {
    const LeechBall& ball = LeechBall::get(m);
    const auto t = tables_of("llvq-sg:shells=" + std::to_string(m) + ",gain_bits=1");
    expect_split_matches_unrank(*t, ball, 0);
    for (size_t c = 0; c < ball.num_classes(); ++c) {
      const auto info = ball.class_info(c);
      expect_split_matches_unrank(*t, ball, info.offset);
      expect_split_matches_unrank(*t, ball, info.offset + info.size - 1);
    }
    std::mt19937_64 rng(static_cast<uint64_t>(m));
    for (int i = 0; i < 20000; ++i) expect_split_matches_unrank(*t, ball, rng() % ball.size());
  }
}

TEST(LeechKernels, SplitWordExhaustiveShell2) {
  const LeechBall& ball = LeechBall::get(2);
  const auto t = tables_of("l24sq:gain_bits=0");
  for (uint64_t index = 0; index < ball.size(); ++index) expect_split_matches_unrank(*t, ball, index);
}

// A valid minimal bitstream with random scales (positive bf16), gains and ball indices.
std::vector<uint8_t> random_codes(const Codec& codec, int64_t rows, int64_t cols, uint64_t seed) {
  const auto p = std::get<LeechLayout>(codec.kernel_layout());
  const LeechBall& ball = LeechBall::get(p.max_shell);
  const uint64_t lo = p.min_shell >= 2 ? ball.shell_offset(p.min_shell) : 0;
  const int64_t group = p.group ? static_cast<int64_t>(p.group) : cols;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  BitWriter out;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < cols / group; ++g) out.put(codec_detail::scale_to_bf16(scale(rng)), 16);
    for (int64_t j = 0; j < cols / 24; ++j) {
      out.put(rng(), p.gain_bits);
      out.put(lo + rng() % (ball.size() - lo), ball.bits());
    }
  }
  return out.bytes();
}

struct Case {
  std::string spec;
  int64_t rows, cols;
  bool exact;  // decode bit-identical to Codec::decode_rows (shape–gain), else ≤ 1 ulp
};

const Case kCases[] = {
    {"llvq-sg:bpw=2,gain_bits=1", 13, 24 * 11, true},
    {"llvq-sg:bpw=2,gain_bits=4,group=48", 7, 24 * 6, true},
    {"llvq-sg:bpw=2,gain_bits=0", 5, 24 * 3, true},
    {"l24sq:gain_bits=2", 9, 24 * 5, true},
    {"llvq-ss:shells=13", 11, 24 * 9, false},
    {"llvq-ss:shells=13,group=72", 3, 24 * 12, false},
    // Scale groups of 8 and 16 blocks, rows of 19 blocks: the AVX-512 GEMV's 8-block chunks
    // with and without a tail.
    {"llvq-sg:bpw=2,gain_bits=1,group=192", 6, 24 * 16, true},
    {"llvq-sg:bpw=2,gain_bits=2", 4, 24 * 19, true},
    {"llvq-ss:shells=13,group=384", 5, 24 * 32, false},
};

TEST(LeechKernels, PackDecodeMatchesCodecAndToCodesRoundTrips) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.spec);
    const auto codec = make_codec(c.spec);
    ASSERT_TRUE(kernels::has_kernels(*codec));
    const auto codes = random_codes(*codec, c.rows, c.cols, 7);
    const auto packed = kernels::pack(*codec, codes.data(), codes.size(), c.rows, c.cols);
    EXPECT_EQ(packed->to_codes(), codes);
    // 56-bit words (no escape among these codes) and the file's bf16 scales.
    EXPECT_EQ(packed->bytes(),
              static_cast<uint64_t>(kernels::octet::kWordsBefore +
                                    7 * (c.rows * (c.cols / 24) + kernels::octet::kWordsAhead + 8)) +
                  2 * static_cast<uint64_t>(c.rows) * (codec->side_bits(c.cols) / 16));
    std::vector<float> want(static_cast<size_t>(c.rows * c.cols)), got(want.size());
    codec->decode_rows(codes.data(), codes.size(), c.rows, c.cols, want.data());
    packed->decode_rows(0, c.rows, got.data(), Isa::Scalar);
    for (size_t i = 0; i < want.size(); ++i) {
      if (c.exact) {
        ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i])) << "weight " << i;
      } else {
        ASSERT_LE(std::abs(got[i] - want[i]), std::abs(want[i]) * 1.2e-7f) << "weight " << i;
      }
    }
  }
}

// Every level the CPU runs: decode bit-identical to the scalar reference, GEMV within float
// rounding of it and of a double-precision product with the codec's own decoded matrix.
TEST(LeechKernels, EveryIsaMatchesScalarReference) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.spec);
    const auto codec = make_codec(c.spec);
    const auto codes = random_codes(*codec, c.rows, c.cols, 11);
    const auto packed = kernels::pack(*codec, codes.data(), codes.size(), c.rows, c.cols);
    std::vector<float> w(static_cast<size_t>(c.rows * c.cols));
    codec->decode_rows(codes.data(), codes.size(), c.rows, c.cols, w.data());
    const auto x = llvq::test::gaussian(static_cast<size_t>(c.cols), 3);
    std::vector<double> oracle(static_cast<size_t>(c.rows)), bound(oracle.size());
    for (int64_t r = 0; r < c.rows; ++r)
      for (int64_t k = 0; k < c.cols; ++k) {
        oracle[r] += static_cast<double>(w[r * c.cols + k]) * x[k];
        bound[r] += std::abs(static_cast<double>(w[r * c.cols + k]) * x[k]);
      }
    std::vector<float> ref(w.size());
    packed->decode_rows(0, c.rows, ref.data(), Isa::Scalar);
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
      if (!kernels::cpu_supports(isa)) continue;
      SCOPED_TRACE(kernels::to_string(isa));
      const kernels::IsaScope scope(isa);
      std::vector<float> got(w.size()), y(static_cast<size_t>(c.rows));
      kernels::decode(*packed, got.data(), 2);
      EXPECT_EQ(got, ref);
      // Odd row ranges straight through the interface too.
      std::vector<float> part(static_cast<size_t>(3 * c.cols));
      packed->decode_rows(1, 4 > c.rows ? c.rows : 4, part.data(), isa);
      EXPECT_TRUE(std::equal(part.begin(), part.begin() + (std::min<int64_t>(4, c.rows) - 1) * c.cols,
                             ref.begin() + c.cols));
      // AVX-512 has two GEMV kernels (eight blocks with gathers, or one block), chosen per CPU.
      for (const auto wide : {kernels::octet::WideGemv::On, kernels::octet::WideGemv::Off}) {
        if (isa != Isa::Avx512 && wide == kernels::octet::WideGemv::Off) continue;
        {
          const kernels::octet::WideGemvScope scope(wide);
          kernels::gemv(*packed, x.data(), y.data(), 2);
        }
        for (int64_t r = 0; r < c.rows; ++r)
          EXPECT_NEAR(y[r], oracle[r], 1e-5 * bound[r] + 1e-30)
              << "row " << r << (wide == kernels::octet::WideGemv::On ? " (eight-block kernel)" : "");
      }
    }
  }
}

TEST(LeechKernels, PackRejectsInvalidCodes) {
  const auto sg = make_codec("llvq-sg:bpw=2,gain_bits=1");
  const int64_t rows = 2, cols = 48;
  const LeechBall& ball = LeechBall::get(12);
  auto write = [&](uint16_t scale, uint64_t index) {
    BitWriter out;
    for (int64_t r = 0; r < rows; ++r) {
      out.put(scale, 16);
      for (int j = 0; j < 2; ++j) {
        out.put(1, 1);
        out.put(r == 1 && j == 1 ? index : 5, ball.bits());
      }
    }
    return out.bytes();
  };
  const uint16_t one = codec_detail::scale_to_bf16(1.0f);
  auto try_pack = [&](const std::vector<uint8_t>& codes) { kernels::pack(*sg, codes.data(), codes.size(), rows, cols); };
  EXPECT_NO_THROW(try_pack(write(one, ball.size() - 1)));
  EXPECT_THROW(try_pack(write(one, 0)), InputError);  // the origin has no direction
  EXPECT_THROW(try_pack(write(0x7FC0, 5)), InputError);  // NaN scale
  EXPECT_THROW(try_pack(write(0xBF80, 5)), InputError);  // −1 scale
  auto codes = write(one, 5);
  codes.pop_back();
  EXPECT_THROW(try_pack(codes), InputError);  // size mismatch
  // 2^ball_bits > size for llvq-ss shells=13 (48 bits): an index past the ball is rejected.
  const auto ss = make_codec("llvq-ss:shells=13");
  const LeechBall& b13 = LeechBall::get(13);
  ASSERT_LT(b13.size(), uint64_t{1} << b13.bits());
  BitWriter out;
  out.put(one, 16);
  out.put(b13.size(), b13.bits());
  const auto bad = out.bytes();
  EXPECT_THROW(kernels::pack(*ss, bad.data(), bad.size(), 1, 24), InputError);
}

TEST(LeechKernels, HandlesOnlyTheBallCodecs) {
  EXPECT_TRUE(kernels::detail::leech_handles(*make_codec("llvq-sg")));
  EXPECT_TRUE(kernels::detail::leech_handles(*make_codec("llvq-ss")));
  EXPECT_TRUE(kernels::detail::leech_handles(*make_codec("l24sq")));
  EXPECT_FALSE(kernels::detail::leech_handles(*make_codec("llvq-ss:bpw=3")));
  EXPECT_FALSE(kernels::detail::leech_handles(*make_codec("e8p")));
}

}  // namespace
}  // namespace llvq
