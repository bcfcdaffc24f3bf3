// Table kernel family (E8P and scalar codecs): packing round trip, reference decode against
// Codec::decode_rows, every SIMD level against the reference, GEMV against a double-precision
// product of the decoded matrix, and pack()'s input checks.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "codec_test_util.hpp"
#include "floats.hpp"
#include "kernel_checks.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/half.hpp"
#include "llvq/kernels.hpp"

namespace {

using llvq::kernels::Isa;

struct Case {
  std::string spec;
  int64_t rows, cols;
};

// Awkward shapes: row counts that are not multiples of any tile, odd widths, odd block
// counts per scale group, groups smaller and larger than a SIMD register.
std::vector<Case> cases() {
  std::vector<Case> out = {
      {"e8p", 7, 104},          {"e8p", 1, 8},          {"e8p", 5, 128},          {"e8p:group=8", 6, 40},
      {"e8p:group=16", 3, 96},  {"e8p:group=24", 9, 72}, {"e8p:group=64", 4, 256},
  };
  for (int bits = 1; bits <= 8; ++bits) {
    const std::string base = "scalar:bpw=" + std::to_string(bits);
    out.push_back({base + ",kind=lloyd", 5, 37});
    out.push_back({base + ",kind=uniform", 3, 200});
    out.push_back({base + ",kind=lloyd,group=32", 6, 96});
    out.push_back({base + ",kind=lloyd,group=8", 4, 24});
  }
  out.push_back({"scalar:bpw=3,group=5", 3, 35});
  out.push_back({"scalar:bpw=2", 2, 1});
  out.push_back({"scalar:bpw=4,group=48", 5, 144});
  out.push_back({"scalar:bpw=5", 9, 17});
  return out;
}

// A random but valid bitstream: per row the bf16 scales (positive, occasionally zero) then
// uniformly random codes, so every codeword and level is exercised.
std::vector<uint8_t> random_codes(const llvq::Codec& codec, int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> log_scale(-12.0f, 4.0f);
  const size_t n = static_cast<size_t>(cols);
  const size_t groups = codec.side_bits(n) / 16;
  llvq::BitWriter out;
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t g = 0; g < groups; ++g) {
      const float s = rng() % 17 == 0 ? 0.0f : std::exp2(log_scale(rng));
      out.put(llvq::float_to_bf16(s), 16);
    }
    for (size_t b = 0; b < codec.blocks_per_row(n); ++b) out.put(rng(), static_cast<int>(codec.block_bits()));
  }
  return out.bytes();
}

// Designing the Lloyd–Max levels of wide scalar codecs takes a while: one codec per spec.
const llvq::Codec& codec_for(const std::string& spec) {
  static std::map<std::string, std::unique_ptr<llvq::Codec>> cache;
  auto& slot = cache[spec];
  if (!slot) slot = llvq::make_codec(spec);
  return *slot;
}

struct Packed {
  const llvq::Codec* codec;
  std::vector<uint8_t> codes;
  std::unique_ptr<llvq::kernels::PackedMatrix> m;
};

Packed make_packed(const Case& c, uint64_t seed) {
  Packed p;
  p.codec = &codec_for(c.spec);
  p.codes = random_codes(*p.codec, c.rows, c.cols, seed);
  p.m = llvq::kernels::pack(*p.codec, p.codes.data(), p.codes.size(), c.rows, c.cols);
  return p;
}

std::vector<float> decode_all(const llvq::kernels::PackedMatrix& m, Isa isa) {
  std::vector<float> out(static_cast<size_t>(m.rows() * m.cols()), NAN);
  m.decode_rows(0, m.rows(), out.data(), isa);
  return out;
}

TEST(KernelsTable, PackKeepsTheBitstreamAndShape) {
  uint64_t seed = 1;
  for (const Case& c : cases()) {
    const Packed p = make_packed(c, seed++);
    EXPECT_EQ(p.m->to_codes(), p.codes) << c.spec;
    EXPECT_EQ(p.m->rows(), c.rows);
    EXPECT_EQ(p.m->cols(), c.cols);
    EXPECT_EQ(p.m->codec_spec(), p.codec->spec());
    // The layout holds at least the codec's information, and pads each scalar-codec row by
    // under one 64-bit word per bit plane (≤ 3) plus a 16-byte guard.
    const double codec_bits = static_cast<double>(c.rows) * static_cast<double>(p.codec->row_bits(c.cols));
    const double layout_bits = 8.0 * static_cast<double>(p.m->bytes());
    EXPECT_GE(layout_bits, codec_bits) << c.spec;
    EXPECT_LE(layout_bits, codec_bits + static_cast<double>(c.rows) * 3 * 64 + 128) << c.spec;
  }
}

TEST(KernelsTable, E8pLayoutIsExactlyTheCodecRate) {
  for (const char* spec : {"e8p", "e8p:group=32"}) {
    const Packed p = make_packed({spec, 5, 96}, 3);
    EXPECT_EQ(p.m->bytes(), p.codes.size()) << spec;
    EXPECT_DOUBLE_EQ(p.m->bits_per_weight(), p.codec->bits_per_weight(96)) << spec;
  }
}

TEST(KernelsTable, ReferenceDecodeEqualsCodecDecode) {
  uint64_t seed = 100;
  for (const Case& c : cases()) {
    const Packed p = make_packed(c, seed++);
    std::vector<float> expect(static_cast<size_t>(c.rows * c.cols));
    p.codec->decode_rows(p.codes.data(), p.codes.size(), c.rows, c.cols, expect.data());
    EXPECT_TRUE(llvq::test::bits_equal(decode_all(*p.m, Isa::Scalar), expect)) << c.spec;
  }
}

TEST(KernelsTable, ReferenceDecodeOfEncodedWeights) {
  for (const char* spec : {"e8p", "e8p:group=32", "scalar:bpw=3", "scalar:bpw=4,kind=uniform,group=16"}) {
    const auto codec = llvq::make_codec(spec);
    const auto w = llvq::test::gaussian(6 * 64, 9, 0.02);
    const auto codes = codec->encode_rows(w.data(), 6, 64);
    const auto m = llvq::kernels::pack(*codec, codes.data(), codes.size(), 6, 64);
    std::vector<float> expect(w.size());
    codec->decode_rows(codes.data(), codes.size(), 6, 64, expect.data());
    EXPECT_TRUE(llvq::test::bits_equal(decode_all(*m, Isa::Scalar), expect)) << spec;
    EXPECT_EQ(m->to_codes(), codes) << spec;
  }
}

TEST(KernelsTable, SimdDecodeIsBitExact) {
  uint64_t seed = 200;
  for (const Case& c : cases()) {
    const Packed p = make_packed(c, seed++);
    const std::vector<float> ref = decode_all(*p.m, Isa::Scalar);
    for (Isa isa : llvq::test::supported_isas()) {
      EXPECT_TRUE(llvq::test::bits_equal(decode_all(*p.m, isa), ref)) << c.spec << " " << llvq::kernels::to_string(isa);
      // A row range lands at out[0]; its rows equal the same rows of the full decode.
      if (c.rows >= 3) {
        std::vector<float> part(static_cast<size_t>(2 * c.cols));
        p.m->decode_rows(1, 3, part.data(), isa);
        EXPECT_TRUE(std::equal(part.begin(), part.end(), ref.begin() + c.cols));
      }
    }
  }
}

TEST(KernelsTable, GemvMatchesDecodedProductAtEveryLevel) {
  uint64_t seed = 300;
  for (const Case& c : cases()) {
    const Packed p = make_packed(c, seed++);
    const std::vector<float> w = decode_all(*p.m, Isa::Scalar);
    const auto x = llvq::test::gaussian(static_cast<size_t>(c.cols), seed + 1000);
    for (Isa isa : llvq::test::supported_isas()) {
      std::vector<float> y(static_cast<size_t>(c.rows), NAN);
      p.m->gemv_rows(x.data(), 0, c.rows, y.data(), isa);
      llvq::test::expect_gemv_close(y, w, x, c.rows, c.cols, c.spec + " " + llvq::kernels::to_string(isa));
    }
  }
}

TEST(KernelsTable, ThreadedDriversEqualRowKernels) {
  for (const Case& c : {Case{"e8p", 37, 64}, Case{"scalar:bpw=3,group=16", 41, 48}}) {
    const Packed p = make_packed(c, 7);
    const auto x = llvq::test::gaussian(static_cast<size_t>(c.cols), 8);
    for (Isa isa : llvq::test::supported_isas()) {
      llvq::kernels::IsaScope scope(isa);
      std::vector<float> y1(static_cast<size_t>(c.rows)), y3(y1.size()), yr(y1.size());
      p.m->gemv_rows(x.data(), 0, c.rows, yr.data(), isa);
      llvq::kernels::gemv(*p.m, x.data(), y1.data(), 1);
      llvq::kernels::gemv(*p.m, x.data(), y3.data(), 3);
      EXPECT_EQ(y1, yr);
      EXPECT_EQ(y3, yr);
      std::vector<float> d(static_cast<size_t>(c.rows * c.cols));
      llvq::kernels::decode(*p.m, d.data(), 3);
      EXPECT_TRUE(llvq::test::bits_equal(d, decode_all(*p.m, isa)));
    }
  }
}

TEST(KernelsTable, DenseGemvMatchesDoubleProductAtEveryLevel) {
  for (int64_t rows : {1, 3, 4, 9}) {
    for (int64_t cols : {1, 7, 8, 15, 17, 33, 100}) {
      const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), static_cast<uint64_t>(rows * 1000 + cols));
      const auto x = llvq::test::gaussian(static_cast<size_t>(cols), 5);
      std::vector<uint16_t> h(w.size());
      std::vector<float> wh(w.size());
      for (size_t i = 0; i < w.size(); ++i) {
        h[i] = llvq::float_to_fp16(w[i]);
        wh[i] = llvq::fp16_to_float(h[i]);
      }
      for (Isa isa : llvq::test::supported_isas()) {
        llvq::kernels::IsaScope scope(isa);
        const std::string what = llvq::kernels::to_string(isa) + " " + std::to_string(rows) + "x" + std::to_string(cols);
        std::vector<float> y(static_cast<size_t>(rows), NAN);
        llvq::kernels::gemv_f32(w.data(), rows, cols, x.data(), y.data(), 2);
        llvq::test::expect_gemv_close(y, w, x, rows, cols, "f32 " + what);
        std::fill(y.begin(), y.end(), NAN);
        llvq::kernels::gemv_f16(h.data(), rows, cols, x.data(), y.data(), 2);
        llvq::test::expect_gemv_close(y, wh, x, rows, cols, "f16 " + what);
      }
    }
  }
}

// GGUF Q8_0 rows against the loader's dequantization (gguf::dequantize) of the same blocks, at
// every level: scales of both signs, zero and subnormal-free extremes, odd row counts.
TEST(KernelsTable, Q8_0GemvMatchesTheDequantizedProductAtEveryLevel) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> q(-127, 127);
  std::normal_distribution<float> scale(0.0f, 0.05f);
  for (int64_t rows : {1, 3, 4, 9}) {
    for (int64_t cols : {32, 64, 96, 576}) {
      const int64_t blocks = rows * cols / 32;
      std::vector<uint8_t> bytes;
      for (int64_t b = 0; b < blocks; ++b) {
        const uint16_t d = b % 7 == 3 ? 0 : llvq::float_to_fp16(scale(rng));
        bytes.push_back(static_cast<uint8_t>(d & 0xFF));
        bytes.push_back(static_cast<uint8_t>(d >> 8));
        for (int i = 0; i < 32; ++i) bytes.push_back(static_cast<uint8_t>(static_cast<int8_t>(q(rng))));
      }
      std::vector<float> w(static_cast<size_t>(rows * cols));
      llvq::gguf::dequantize(llvq::gguf::TensorType::Q8_0, bytes, w.size(), w.data());
      const auto x = llvq::test::gaussian(static_cast<size_t>(cols), 9);
      for (Isa isa : llvq::test::supported_isas()) {
        llvq::kernels::IsaScope scope(isa);
        std::vector<float> y(static_cast<size_t>(rows), NAN);
        llvq::kernels::gemv_q8_0(bytes.data(), rows, cols, x.data(), y.data(), 2);
        llvq::test::expect_gemv_close(y, w, x, rows, cols,
                                      "q8_0 " + llvq::kernels::to_string(isa) + " " + std::to_string(rows) + "x" +
                                          std::to_string(cols));
      }
    }
  }
  std::vector<uint8_t> bytes(34 * 2);
  std::vector<float> x(48), y(1);
  EXPECT_THROW(llvq::kernels::gemv_q8_0(bytes.data(), 1, 48, x.data(), y.data()), llvq::InputError);
}

// The batched dense baseline (W read once for every token): chunks of 8, 4, 2 and 1 tokens,
// strided inputs, every column tail.
TEST(KernelsTable, DenseGemmMatchesDoubleProductAtEveryLevel) {
  for (int64_t rows : {1, 5, 9}) {
    for (int64_t cols : {1, 8, 17, 100}) {
      for (int64_t tokens : {1, 3, 7, 8, 15}) {
        const int64_t ldx = cols + 2;
        const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), static_cast<uint64_t>(rows * 100 + cols));
        const auto xs = llvq::test::gaussian(static_cast<size_t>(tokens * ldx), static_cast<uint64_t>(tokens));
        for (Isa isa : llvq::test::supported_isas()) {
          llvq::kernels::IsaScope scope(isa);
          std::vector<float> y(static_cast<size_t>(tokens * rows), NAN);
          llvq::kernels::gemm_f32(w.data(), rows, cols, xs.data(), ldx, tokens, y.data(), 2);
          for (int64_t t = 0; t < tokens; ++t) {
            const std::vector<float> x(xs.begin() + t * ldx, xs.begin() + t * ldx + cols);
            const std::vector<float> yt(y.begin() + t * rows, y.begin() + (t + 1) * rows);
            llvq::test::expect_gemv_close(yt, w, x, rows, cols,
                                          llvq::kernels::to_string(isa) + " token " + std::to_string(t) + " of " +
                                              std::to_string(tokens) + ", " + std::to_string(rows) + "x" +
                                              std::to_string(cols));
          }
        }
      }
    }
  }
  const std::vector<float> w(8), x(8);
  std::vector<float> y(2);
  EXPECT_THROW(llvq::kernels::gemm_f32(w.data(), 1, 8, x.data(), 7, 2, y.data()), llvq::InputError);
}

TEST(KernelsTable, HasKernelsForTableCodecsOnly) {
  EXPECT_TRUE(llvq::kernels::has_kernels(*llvq::make_codec("e8p")));
  EXPECT_TRUE(llvq::kernels::has_kernels(*llvq::make_codec("scalar:bpw=7,group=8")));
  EXPECT_FALSE(llvq::kernels::has_kernels(*llvq::make_codec("pvq:bpw=2")));
}

TEST(KernelsTable, PackRejectsBadInput) {
  const auto e8p = llvq::make_codec("e8p");
  auto codes = random_codes(*e8p, 3, 16, 1);
  using llvq::InputError;
  using llvq::kernels::pack;
  EXPECT_THROW(pack(*e8p, codes.data(), codes.size() - 1, 3, 16), InputError);
  EXPECT_THROW(pack(*e8p, codes.data(), codes.size(), 2, 16), InputError);
  EXPECT_THROW(pack(*e8p, codes.data(), codes.size(), 3, 12), InputError);  // not whole blocks
  EXPECT_THROW(pack(*e8p, codes.data(), codes.size(), -1, 16), InputError);
  const auto pvq = llvq::make_codec("pvq:bpw=2");
  const size_t n = pvq->block_dim();
  const std::vector<uint8_t> pvq_codes((pvq->row_bits(n) + 7) / 8);
  EXPECT_THROW(pack(*pvq, pvq_codes.data(), pvq_codes.size(), 1, static_cast<int64_t>(n)), InputError);
  // Scales the codec would reject: NaN and negative bf16.
  for (uint16_t bad : {uint16_t{0x7fc0}, uint16_t{0xbf80}}) {
    codes[0] = static_cast<uint8_t>(bad & 255);
    codes[1] = static_cast<uint8_t>(bad >> 8);
    EXPECT_THROW(pack(*e8p, codes.data(), codes.size(), 3, 16), InputError);
  }
  const auto grouped = llvq::make_codec("scalar:bpw=2,group=8");
  const auto g_codes = random_codes(*grouped, 2, 16, 2);
  EXPECT_THROW(pack(*grouped, g_codes.data(), g_codes.size(), 2, 12), InputError);  // not whole groups
}

}  // namespace
