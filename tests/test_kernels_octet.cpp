// The octet word (src/kernels/octet_*), the CPU kernels' layout of the Leech-ball codes.
// Oracles: LeechBall::unrank / rank (the minimal code's own bijection), the lattice's
// membership test, and the scalar reference for every SIMD level (escapes included).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "codec/codec_impl.hpp"
#include "kernels/octet_tables.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/kernels.hpp"
#include "llvq/leech.hpp"
#include "llvq/leech_ball.hpp"
#include "random.hpp"

namespace llvq {
namespace {

using kernels::Isa;
using kernels::octet::OctetTables;

LeechLayout params_of(const std::string& spec) {
  const KernelLayout layout = make_codec(spec)->kernel_layout();
  EXPECT_TRUE(std::holds_alternative<LeechLayout>(layout)) << spec;
  return std::get<LeechLayout>(layout);
}

// word_of → point_of is the identity on the point, keeps the gain, and the word's fields
// never use the escape mark unless an escape was recorded.
void expect_round_trip(const OctetTables& t, const leech::Vec& v, uint32_t gain, std::vector<kernels::octet::Escape>& esc) {
  const size_t before = esc.size();
  const uint64_t word = t.word_of(v, gain, esc);
  const kernels::octet::View m = t.view();
  ASSERT_EQ(kernels::octet::gain_of(m, word), gain);
  ASSERT_EQ(kernels::octet::is_escape(m, word), esc.size() > before);
  ASSERT_EQ(t.point_of(word, esc.data()), v);
}

TEST(OctetWord, TrioIsAPartitionIntoOctads) {
  const OctetTables& t = OctetTables::get(params_of("llvq-ss:shells=13"));
  uint32_t seen = 0;
  for (int k = 0; k < 3; ++k) {
    uint32_t octad = 0;
    for (int i = 0; i < 8; ++i) octad |= 1u << t.trio()[static_cast<size_t>(8 * k + i)];
    EXPECT_EQ(__builtin_popcount(octad), 8);
    EXPECT_TRUE(golay::is_codeword(octad));
    EXPECT_EQ(seen & octad, 0u);
    seen |= octad;
  }
  EXPECT_EQ(seen, 0xFFFFFFu);
}

// Every table is sorted by (norm, lexicographic) and holds only vectors of its residue
// pattern; the first entries are the smallest vectors of each type, and `position` (computed
// from counts) finds every entry where it is. A shape–gain code's tables carry each pattern's
// norm/8 in the top bits of its bytes (the one-block GEMV reads it there); a ball code's bytes
// are the plain values.
TEST(OctetWord, PatternTablesHoldTheirTypeInNormOrder) {
  for (const char* spec : {"llvq-ss:shells=13", "llvq-sg:shells=12,gain_bits=1"}) {
    SCOPED_TRACE(spec);
    const OctetTables& t = OctetTables::get(params_of(spec));
    const kernels::octet::View m = t.view();
    const bool marked = m.kind == kernels::octet::Kind::ShapeGain;
    for (int type = 0; type < kernels::octet::kTypes; ++type) {
      SCOPED_TRACE(type);
      ASSERT_GT(t.entries(type), 10000);
      ASSERT_LT(t.entries(type), int64_t{1} << t.entry_bits());
      uint32_t last = 0;
      std::array<int8_t, 8> previous{};
      for (int64_t j = 0; j < t.entries(type); ++j) {
        const uint32_t e = static_cast<uint32_t>(type) << t.entry_bits() | static_cast<uint32_t>(j);
        const int8_t* stored = m.patterns + 8 * e;
        uint32_t norm = 0, marks = 0;
        std::array<int8_t, 8> values{};
        for (int i = 0; i < 8; ++i) {
          const int p = kernels::octet::pattern_value(stored[i]);
          values[static_cast<size_t>(i)] = static_cast<int8_t>(p);
          const int want = type == 0 ? 1 : (i < 2 * (type - 1) ? 2 : 0);
          ASSERT_EQ(((p % 4) + 4) % 4, want) << "entry " << j;
          if (!marked) {
            ASSERT_EQ(stored[i], p) << "entry " << j;
          }
          norm += static_cast<uint32_t>(p * p);
          marks |= (static_cast<uint8_t>(stored[i]) >> 7 & 1u) << i;
        }
        ASSERT_EQ(8u * m.norm8[e], norm);
        if (marked) {
          ASSERT_EQ(marks, m.norm8[e]) << "entry " << j;
        }
        ASSERT_GE(norm, last);
        if (j > 0 && norm == last) {
          ASSERT_TRUE(previous < values) << "entry " << j;
        }
        ASSERT_EQ(t.position(type, values.data()), j);
        last = norm;
        previous = values;
      }
      const std::array<int8_t, 8> off_residue = {3, 0, 0, 0, 0, 0, 0, 0};  // 3 is of no type's slot 0
      EXPECT_EQ(t.position(type, off_residue.data()), -1);
    }
    // Past the table: a norm above the ball's octets (16·M), and the largest pattern of norm
    // 208 in the w = 0 table: above llvq-sg's octets (192), and past llvq-ss's table, which is
    // cut just below that norm.
    const std::array<int8_t, 8> too_long = {16, 16, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(t.position(1, too_long.data()), -1);
    const std::array<int8_t, 8> cut = {12, 8, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(t.position(1, cut.data()), -1);
    if (!marked) {
      EXPECT_EQ(t.entries(1), (int64_t{1} << t.entry_bits()) - 1);
    }
    EXPECT_EQ(m.norm8[0], 1u);  // odd: (1, 1, …, 1), norm 8
    EXPECT_EQ(m.norm8[1u << t.entry_bits()], 0u);  // even, w = 0: the origin's octet
  }
}

TEST(OctetWordExhaustive, EveryPointOfShell2) {
  const LeechBall& ball = LeechBall::get(2);
  const OctetTables& t = OctetTables::get(params_of("l24sq:gain_bits=0"));
  std::vector<kernels::octet::Escape> esc;
  for (uint64_t index = 0; index < ball.size(); ++index) expect_round_trip(t, ball.unrank(index), 0, esc);
  EXPECT_TRUE(esc.empty());  // the tables reach every point of shell 2
}

// First and last point of every class and random points, for balls up to M = 16 and every
// field layout (gain bits 0 to 4).
TEST(OctetWord, EveryClassRoundTrips) {
  const std::pair<int, int> cases[] = {{2, 0}, {5, 1}, {10, 4}, {11, 2}, {12, 1}, {13, 0}, {14, 3}, {16, 0}};
  for (const auto& [shells, gain_bits] : cases) {
    SCOPED_TRACE("M=" + std::to_string(shells) + " gain_bits=" + std::to_string(gain_bits));
    auto p = params_of("llvq-ss:shells=" + std::to_string(shells));
    p.kind = LeechLayout::Kind::ShapeGain;
    p.gain_bits = gain_bits;
    p.gain_levels.assign(size_t{1} << gain_bits, 1.0);
    const OctetTables& t = OctetTables::get(p);
    const LeechBall& ball = LeechBall::get(shells);
    std::vector<kernels::octet::Escape> esc;
    const uint32_t gain = gain_bits ? (1u << gain_bits) - 1 : 0;
    expect_round_trip(t, ball.unrank(0), gain, esc);
    for (size_t c = 0; c < ball.num_classes(); ++c) {
      const auto info = ball.class_info(c);
      expect_round_trip(t, ball.unrank(info.offset), gain, esc);
      expect_round_trip(t, ball.unrank(info.offset + info.size - 1), gain, esc);
    }
    std::mt19937_64 rng(static_cast<uint64_t>(shells));
    size_t escaped_random = esc.size();
    for (int i = 0; i < 20000; ++i) expect_round_trip(t, ball.unrank(rng() % ball.size()), gain, esc);
    escaped_random = esc.size() - escaped_random;
    // Uniform points of the ball spread their norm over the octets: escapes stay rare.
    EXPECT_LT(escaped_random, 20u);
  }
}

// Packs `codes` and checks it: the bitstream round trips, the scalar decode equals the codec's
// (within 1.2e-7 relative: the ball's 1/s), and every ISA the CPU has equals the scalar
// reference (decode bit for bit, GEMV within float rounding).
std::unique_ptr<kernels::PackedMatrix> expect_packed_decodes_like_codec(const Codec& codec,
                                                                        const std::vector<uint8_t>& codes, int64_t rows,
                                                                        int64_t cols) {
  auto packed = kernels::pack(codec, codes.data(), codes.size(), rows, cols);
  EXPECT_EQ(packed->to_codes(), codes);
  std::vector<float> want(static_cast<size_t>(rows * cols)), ref(want.size());
  codec.decode_rows(codes.data(), codes.size(), rows, cols, want.data());
  packed->decode_rows(0, rows, ref.data(), Isa::Scalar);
  size_t bad = 0;  // the first weight off by more than the tolerance, if any
  while (bad < want.size() && std::abs(ref[bad] - want[bad]) <= std::abs(want[bad]) * 1.2e-7f) ++bad;
  EXPECT_EQ(bad, want.size()) << "weight " << bad << " decodes to " << ref[bad] << ", the codec to " << want[bad];
  std::mt19937_64 rng(29);
  std::vector<float> x(static_cast<size_t>(cols));
  for (auto& v : x) v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
  std::vector<float> y_ref(static_cast<size_t>(rows));
  packed->gemv_rows(x.data(), 0, rows, y_ref.data(), Isa::Scalar);
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!kernels::cpu_supports(isa)) continue;
    SCOPED_TRACE(kernels::to_string(isa));
    std::vector<float> got(want.size()), y(static_cast<size_t>(rows));
    packed->decode_rows(0, rows, got.data(), isa);
    EXPECT_EQ(got, ref);
    // AVX-512 has two GEMV kernels (eight blocks with gathers, or one block), chosen per CPU.
    for (const auto wide : {kernels::octet::WideGemv::On, kernels::octet::WideGemv::Off}) {
      if (isa != Isa::Avx512 && wide == kernels::octet::WideGemv::Off) continue;
      SCOPED_TRACE(wide == kernels::octet::WideGemv::On ? "wide" : "one block");
      {
        const kernels::octet::WideGemvScope scope(wide);
        packed->gemv_rows(x.data(), 0, rows, y.data(), isa);
      }
      for (int64_t r = 0; r < rows; ++r) {
        double bound = 0;
        for (int64_t k = 0; k < cols; ++k) bound += std::abs(static_cast<double>(ref[r * cols + k]) * x[k]);
        EXPECT_NEAR(y[r], y_ref[r], 1e-5 * bound) << "row " << r;
      }
    }
    // Several tokens at once (chunks of 8, 4, 2, 1; inputs with a stride): each block decoded
    // once, each token's result the one-block GEMV's bit for bit.
    const kernels::octet::WideGemvScope one_block(kernels::octet::WideGemv::Off);
    for (const int64_t tokens : {2, 3, 5, 8, 9}) {
      SCOPED_TRACE(std::to_string(tokens) + " tokens");
      const int64_t ldx = cols + 8;
      std::vector<float> xs(static_cast<size_t>(tokens * ldx)), ys(static_cast<size_t>(tokens * rows)), one(y.size());
      for (auto& v : xs) v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
      packed->gemm_rows(xs.data(), ldx, tokens, 0, rows, ys.data(), rows, isa);
      for (int64_t t = 0; t < tokens; ++t) {
        packed->gemv_rows(xs.data() + t * ldx, 0, rows, one.data(), isa);
        EXPECT_EQ(std::vector<float>(ys.begin() + t * rows, ys.begin() + (t + 1) * rows), one) << "token " << t;
      }
    }
  }
  return packed;
}

// Ball indices whose words use each field layout (row s: layout s), up to `per_layout` each,
// from a seeded scan of the ball: uniform points and points spread evenly over its shells.
std::vector<std::vector<uint64_t>> indices_by_layout(const OctetTables& t, const LeechLayout& p, size_t per_layout) {
  const LeechBall& ball = LeechBall::get(p.max_shell);
  const int first = std::max(p.min_shell, LeechBall::kMinShell);
  const kernels::octet::View m = t.view();
  std::vector<std::vector<uint64_t>> out(kernels::octet::kLayouts + 1);
  std::vector<kernels::octet::Escape> esc;
  std::mt19937_64 rng(17);
  for (int i = 0; i < 200000; ++i) {
    const int shell = first + i % (p.max_shell - first + 1);
    const uint64_t lo = ball.shell_offset(i % 2 ? shell : first);
    const uint64_t hi = i % 2 && shell < p.max_shell ? ball.shell_offset(shell + 1) : ball.size();
    const uint64_t index = lo + rng() % (hi - lo);
    auto& slot = out[kernels::octet::layout_of(m, t.word_of(ball.unrank(index), 0, esc))];
    if (slot.size() < per_layout) slot.push_back(index);
  }
  return out;
}

// Blocks of every field layout the scan reaches, in turn, at every position of a row (the
// AVX-512 GEMV's chunks and tail, its one-block path for small groups): the bitstream round
// trips, the scalar decode equals the codec's, and every ISA equals the scalar reference.
TEST(OctetWord, EveryFieldLayoutDecodesOnEveryIsa) {
  for (const char* spec : {"llvq-sg", "llvq-ss:bpw=2", "llvq-sg:bpw=2,gain_bits=4,group=48", "l24sq:gain_bits=2"}) {
    SCOPED_TRACE(spec);
    const auto codec = make_codec(spec);
    const LeechLayout p = params_of(spec);
    const OctetTables& t = OctetTables::get(p);
    EXPECT_EQ(t.word_bytes(), 7);  // 2 bits per weight: 56-bit words
    const auto by_layout = indices_by_layout(t, p, 8);
    std::vector<uint64_t> pool;
    size_t layouts = 0;
    for (size_t q = 0; q < 8; ++q)
      for (const auto& row : by_layout)
        if (q < row.size()) pool.push_back(row[q]);
    for (const auto& row : by_layout) layouts += !row.empty();
    // The seven layouts are distinct where the ball needs them (l24sq's shell 2 fits the first).
    if (p.max_shell > 2) {
      EXPECT_GE(layouts, 5u);
    }
    const int64_t rows = 6, cols = 24 * 20;
    const int64_t group = p.group ? static_cast<int64_t>(p.group) : cols;
    const LeechBall& ball = LeechBall::get(p.max_shell);
    std::mt19937_64 rng(3);
    BitWriter out;
    for (int64_t r = 0, b = 0; r < rows; ++r) {
      for (int64_t g = 0; g < cols / group; ++g)
        out.put(codec_detail::scale_to_bf16(0.02f * static_cast<float>(g + 1)), 16);
      for (int64_t j = 0; j < cols / 24; ++j, ++b) {
        out.put(rng(), p.gain_bits);
        out.put(pool[static_cast<size_t>(b) % pool.size()], ball.bits());
      }
    }
    expect_packed_decodes_like_codec(*codec, out.bytes(), rows, cols);
  }
}

// Gaussian blocks as the codecs encode them fit the 56-bit words without an escape (none in
// 10^5 measured), so a 2-bit matrix stays at 56 bits per block plus its bf16 scales.
TEST(OctetWord, GaussianBlocksNeedNoEscape) {
  for (const char* spec : {"llvq-sg", "llvq-ss:bpw=2"}) {
    SCOPED_TRACE(spec);
    const auto codec = make_codec(spec);
    const int64_t rows = 16, cols = 4104;
    const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 21);
    const auto codes = codec->encode_rows(w.data(), rows, cols);
    const auto packed = kernels::pack(*codec, codes.data(), codes.size(), rows, cols);
    const int64_t words = rows * (cols / 24) + kernels::octet::kWordsAhead + 8;
    EXPECT_EQ(packed->bytes(), static_cast<uint64_t>(kernels::octet::kWordsBefore + 7 * words + 2 * rows));
  }
}

// The point (±16, 0²³) of shell 16 puts all its norm in one octet, past the even tables:
// it must go through the escape list and decode the same on every ISA.
void expect_escapes_decode_on_every_isa(const std::string& spec) {
  const auto codec = make_codec(spec);
  const auto layout = std::get<LeechLayout>(codec->kernel_layout());
  const LeechBall& ball = LeechBall::get(16);
  const uint64_t lo = layout.min_shell >= 2 ? ball.shell_offset(layout.min_shell) : 0;
  leech::Vec big{};
  big[5] = -16;
  ASSERT_TRUE(leech::is_member(big));
  const uint64_t big_index = ball.rank(big);
  const int64_t rows = 5, cols = 24 * 18;  // two chunks of 8 blocks (the AVX-512 GEMV) and a tail
  const int64_t group = layout.group ? static_cast<int64_t>(layout.group) : cols;
  std::mt19937_64 rng(9);
  BitWriter out;
  int64_t big_blocks = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < cols / group; ++g)
      out.put(codec_detail::scale_to_bf16(0.01f * static_cast<float>(r + g + 1)), 16);
    for (int64_t j = 0; j < cols / 24; ++j) {
      out.put(rng(), layout.gain_bits);
      const bool big_block = (r + j) % 3 == 0;
      big_blocks += big_block;
      out.put(big_block ? big_index : lo + rng() % (ball.size() - lo), ball.bits());
    }
  }
  const auto packed = expect_packed_decodes_like_codec(*codec, out.bytes(), rows, cols);
  const OctetTables& t = OctetTables::get(layout);
  const uint64_t plain = static_cast<uint64_t>(kernels::octet::kWordsBefore +
                                               t.word_bytes() * (rows * (cols / 24) + kernels::octet::kWordsAhead + 8) +
                                               2 * rows * (cols / group));
  EXPECT_GE(packed->bytes(), plain + static_cast<uint64_t>(32 * big_blocks));  // one escape each
}

TEST(OctetWord, EscapedBlocksDecodeOnEveryIsa) {
  // Per-row scales (the AVX-512 eight-block GEMV) and groups of 3 blocks (its one-block path).
  for (const char* spec : {"llvq-ss:shells=16", "llvq-sg:shells=16,gain_bits=2", "llvq-sg:shells=16,gain_bits=1,group=72"}) {
    SCOPED_TRACE(spec);
    expect_escapes_decode_on_every_isa(spec);
  }
}

// kernels::gemm over threads and row ranges: the batched one-block kernel (Leech) and the
// per-token default (E8P) both give gemv's results token by token; a short stride is refused.
TEST(OctetWord, GemmDriverEqualsGemvPerToken) {
  const kernels::octet::WideGemvScope one_block(kernels::octet::WideGemv::Off);
  for (const char* spec : {"llvq-sg", "llvq-ss:bpw=2,group=48", "e8p"}) {
    SCOPED_TRACE(spec);
    const auto codec = make_codec(spec);
    const int64_t rows = 37, cols = 24 * 10, tokens = 6, ldx = cols + 3;
    const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 41);
    const auto codes = codec->encode_rows(w.data(), rows, cols);
    const auto packed = kernels::pack(*codec, codes.data(), codes.size(), rows, cols);
    const auto xs = llvq::test::gaussian(static_cast<size_t>(tokens * ldx), 42);
    std::vector<float> ys(static_cast<size_t>(tokens * rows)), one(static_cast<size_t>(rows));
    kernels::gemm(*packed, xs.data(), ldx, tokens, ys.data(), 2);
    for (int64_t t = 0; t < tokens; ++t) {
      kernels::gemv(*packed, xs.data() + t * ldx, one.data(), 2);
      EXPECT_EQ(std::vector<float>(ys.begin() + t * rows, ys.begin() + (t + 1) * rows), one) << "token " << t;
    }
    EXPECT_THROW(kernels::gemm(*packed, xs.data(), cols - 1, tokens, ys.data()), InputError);
  }
}

}  // namespace
}  // namespace llvq
