// CUDA kernels (src/kernels/cuda): host-side pieces on every machine — the GPU layout built from
// the bitstream and the per-block decode shared with the device code, checked against the
// codec — and, when a GPU is present, the kernels against the CPU decode. Without a GPU the
// device tests skip.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "codec/codec_impl.hpp"
#include "codec_test_util.hpp"
#include "kernels/cuda/layout.hpp"
#include "kernels/octet_tables.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/codec.hpp"
#include "llvq/cuda_kernels.hpp"
#include "llvq/error.hpp"
#include "llvq/half.hpp"
#include "llvq/kernels.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace {

using llvq::cuda::detail::HostLayout;

struct Coded {
  std::unique_ptr<llvq::Codec> codec;
  std::vector<uint8_t> codes;
  int64_t rows, cols;
};

Coded make_coded(const std::string& spec, int64_t rows, int64_t cols, uint64_t seed) {
  Coded c{llvq::make_codec(spec), {}, rows, cols};
  const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), seed, 0.02);
  c.codes = c.codec->encode_rows(w.data(), static_cast<size_t>(rows), static_cast<size_t>(cols));
  return c;
}

std::vector<float> codec_decode(const Coded& c) {
  std::vector<float> w(static_cast<size_t>(c.rows * c.cols));
  c.codec->decode_rows(c.codes.data(), c.codes.size(), static_cast<size_t>(c.rows), static_cast<size_t>(c.cols),
                       w.data());
  return w;
}

// The coded matrix on the device (a build without CUDA throws InputError).
llvq::cuda::DeviceMatrix upload(const Coded& c) {
  return llvq::cuda::DeviceMatrix(*c.codec, c.codes.data(), c.codes.size(), c.rows, c.cols);
}

HostLayout layout_of(const Coded& c) {
  return llvq::cuda::detail::make_layout(*c.codec, c.codes.data(), c.codes.size(), c.rows, c.cols);
}

// The fused GEMV's host twin over the whole matrix.
std::vector<float> twin_gemv(const HostLayout& l, const std::vector<float>& x) {
  std::vector<float> y(static_cast<size_t>(l.rows));
  llvq::cuda::detail::gemv_rows_host(l, x.data(), 0, l.rows, y.data());
  return y;
}

// Shapes with rows that are not a multiple of the 4-row thread blocks, rows shorter than a
// warp's 32 blocks, and per-row as well as grouped scales.
struct Case {
  std::string spec;
  int64_t rows, cols;
};
const std::vector<Case> kCases = {
    {"e8p", 37, 256},
    {"e8p", 1, 8},
    {"e8p", 6, 8 * 33},
    {"e8p:group=64", 13, 192},
    {"e8p:group=8", 5, 40},
    {"llvq-sg:bpw=2,gain_bits=1", 9, 24 * 35},
    {"llvq-sg:bpw=2,gain_bits=4,group=48", 7, 24 * 6},
    {"llvq-ss:shells=13", 5, 24 * 9},
    {"llvq-ss:shells=13,group=72", 3, 24 * 12},
    {"l24sq:gain_bits=2", 2, 24},
};

bool is_e8p(const Case& k) { return k.spec.rfind("e8p", 0) == 0; }
std::string name(const Case& k) { return k.spec + " " + std::to_string(k.rows) + "x" + std::to_string(k.cols); }

// ---------------------------------------------------------------- host side, always runs

TEST(CudaHost, BuiltFollowsTheCompileDefinition) {
#ifdef LLVQ_HAVE_CUDA
  EXPECT_TRUE(llvq::cuda::built());
#else
  EXPECT_FALSE(llvq::cuda::built());
#endif
}

TEST(CudaHost, DeviceQueriesAreConsistentAndNeverThrow) {
  bool available = false;
  ASSERT_NO_THROW(available = llvq::cuda::device_available());
  EXPECT_EQ(available, llvq::cuda::device_available());  // cached, stable
  if (available) {
    EXPECT_TRUE(llvq::cuda::built());
    EXPECT_FALSE(llvq::cuda::device_name().empty());
  } else {
    EXPECT_EQ(llvq::cuda::device_name(), "");
  }
}

TEST(CudaHost, WithoutDeviceEverythingThatNeedsOneThrowsInputError) {
  if (llvq::cuda::device_available()) GTEST_SKIP() << "a GPU is present";
  llvq::kernels::GemvBenchConfig config;
  config.rows = 8;
  config.cols = 64;
  EXPECT_THROW(llvq::cuda::bench_gemv(config), llvq::InputError);
  const Coded c = make_coded("e8p", 2, 16, 1);
  EXPECT_THROW(upload(c), llvq::InputError);
}

TEST(CudaHost, HasKernelsForE8pAndTheLeechBallCodecs) {
  for (const Case& k : kCases) EXPECT_TRUE(llvq::cuda::has_kernels(*llvq::make_codec(k.spec))) << k.spec;
  EXPECT_FALSE(llvq::cuda::has_kernels(*llvq::make_codec("scalar:bpw=2")));
  EXPECT_FALSE(llvq::cuda::has_kernels(*llvq::make_codec("llvq-ss:bpw=3")));  // Voronoi shaping
}

TEST(CudaHost, E8pBlockDecodeEqualsTheCodebookForEvery16BitCode) {
  const auto& tables = llvq::cuda::detail::e8p_tables();
  float out[8];
  for (uint32_t code = 0; code < (1u << 16); ++code) {
    llvq::cuda::detail::e8p_decode_block(tables.pattern, code, out);
    const auto want = llvq::e8p_codeword(code);
    for (int i = 0; i < 8; ++i) ASSERT_EQ(static_cast<double>(out[i]), want[i]) << "code " << code << " coord " << i;
  }
}

TEST(CudaHost, LayoutHoldsTheBitstreamFieldsAndReencodesToTheSameBytes) {
  for (const Case& k : kCases) {
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 7);
    const HostLayout l = layout_of(c);
    EXPECT_EQ(l.code_bytes, is_e8p(k) ? 2 : 8);
    EXPECT_EQ(l.blocks_per_row * l.block_dim, k.cols);
    EXPECT_EQ(l.groups_per_row * l.blocks_per_group, l.blocks_per_row);
    // Writing scales (bf16) and codes back in the codec's order must give the input bytes
    // (for Leech through the octet word's lattice point and the ball's rank).
    llvq::BitWriter again;
    for (int64_t r = 0; r < k.rows; ++r) {
      for (int64_t g = 0; g < l.groups_per_row; ++g)
        again.put(llvq::codec_detail::scale_to_bf16(l.scales[static_cast<size_t>(r * l.groups_per_row + g)]), 16);
      for (int64_t j = 0; j < l.blocks_per_row; ++j) {
        if (is_e8p(k)) {
          again.put(l.e8p_code(r, j), 16);
        } else {
          const auto params = std::get<llvq::LeechLayout>(c.codec->kernel_layout());
          const auto& ball = llvq::LeechBall::get(params.max_shell);
          const uint64_t word = l.leech_word(r, j);
          again.put(word & ((1u << params.gain_bits) - 1), params.gain_bits);
          again.put(ball.rank(llvq::kernels::octet::OctetTables::get(params).point_of(word, l.escapes.data())),
                    ball.bits());
        }
      }
    }
    EXPECT_EQ(again.bytes(), c.codes);
  }
}

TEST(CudaHost, HostTwinOfTheDecodeKernelEqualsTheCodecDecode) {
  for (const Case& k : kCases) {
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 11);
    const HostLayout l = layout_of(c);
    std::vector<float> mine(static_cast<size_t>(k.rows * k.cols));
    llvq::cuda::detail::decode_rows_host(l, 0, k.rows, mine.data());
    const auto want = codec_decode(c);
    // llvq-ss rounds σ/s·v in a different order from the codec: within one float ulp.
    const bool exact = k.spec.rfind("llvq-ss", 0) != 0;
    for (size_t i = 0; i < want.size(); ++i) {
      if (exact) ASSERT_EQ(mine[i], want[i]) << "weight " << i;
      else ASSERT_LE(std::abs(mine[i] - want[i]), std::abs(want[i]) * 1.2e-7f) << "weight " << i;
    }
  }
}

// y against a double-precision product of the CPU-decoded matrix: the error of a float sum
// of n terms is below n·ε·Σ|w·x| (a loose but safe bound; a wrong block or scale is far off).
void expect_gemv_close(const std::vector<float>& w, const std::vector<float>& x, const std::vector<float>& y,
                       int64_t rows, int64_t cols) {
  ASSERT_EQ(static_cast<int64_t>(y.size()), rows);
  for (int64_t r = 0; r < rows; ++r) {
    double want = 0, magnitude = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const double t = static_cast<double>(w[static_cast<size_t>(r * cols + c)]) * x[static_cast<size_t>(c)];
      want += t, magnitude += std::abs(t);
    }
    EXPECT_NEAR(y[static_cast<size_t>(r)], want, 1e-6 + static_cast<double>(cols) * 1.2e-7 * magnitude) << "row " << r;
  }
}

// The fused GEMV's per-block dot products, x permuted into the blocks' slot order and the
// lanes' summation order, run on the host: the product of the codec's decoded matrix.
TEST(CudaHost, HostTwinOfTheFusedGemvEqualsTheProductOfTheDecodedMatrix) {
  for (const Case& k : kCases) {
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 13);
    const HostLayout l = layout_of(c);
    const auto x = llvq::test::gaussian(static_cast<size_t>(k.cols), 14);
    expect_gemv_close(codec_decode(c), x, twin_gemv(l, x), k.rows, k.cols);
  }
}

// Points whose octets fit no field layout go to the matrix's escape list; the GPU layout carries
// it, and both host twins read it.
// llvq-sg with 4 gain bits leaves 36 bits for the positions: about 2 blocks in 10^4 escape.
Coded escape_matrix() { return make_coded("llvq-sg:bpw=2,gain_bits=4", 200, 24 * 60, 17); }

TEST(CudaHost, EscapedBlocksDecodeFromTheEscapeList) {
  const Coded c = escape_matrix();
  const HostLayout l = layout_of(c);
  ASSERT_FALSE(l.escapes.empty()) << "no escape among 12,000 blocks: pick a larger sample";
  std::vector<float> mine(static_cast<size_t>(c.rows * c.cols));
  llvq::cuda::detail::decode_rows_host(l, 0, c.rows, mine.data());
  EXPECT_EQ(mine, codec_decode(c));
  const auto x = llvq::test::gaussian(static_cast<size_t>(c.cols), 18);
  expect_gemv_close(codec_decode(c), x, twin_gemv(l, x), c.rows, c.cols);
}

TEST(CudaHost, LayoutRejectsBadInput) {
  const Coded c = make_coded("e8p", 3, 16, 3);
  using llvq::cuda::detail::make_layout;
  EXPECT_THROW(make_layout(*c.codec, c.codes.data(), c.codes.size() - 1, 3, 16), llvq::InputError);
  EXPECT_THROW(make_layout(*c.codec, c.codes.data(), c.codes.size(), 4, 16), llvq::InputError);
  EXPECT_THROW(make_layout(*c.codec, c.codes.data(), c.codes.size(), 3, 12), llvq::InputError);  // not whole blocks
  EXPECT_THROW(make_layout(*c.codec, c.codes.data(), c.codes.size(), 0, 16), llvq::InputError);
  const auto scalar = llvq::make_codec("scalar:bpw=2");
  EXPECT_THROW(make_layout(*scalar, c.codes.data(), c.codes.size(), 3, 16), llvq::InputError);
}

TEST(CudaHost, LayoutRejectsAnInvalidLeechCode) {
  // llvq-sg codes directions: ball index 0 (the origin) is not one.
  Coded c = make_coded("llvq-sg:bpw=2,gain_bits=1", 2, 48, 5);
  ASSERT_NO_THROW(layout_of(c));
  for (int bit = 16 + 1; bit < 16 + 48; ++bit) c.codes[bit / 8] &= static_cast<uint8_t>(~(1u << (bit % 8)));
  EXPECT_THROW(layout_of(c), llvq::InputError);
}

// ---------------------------------------------------------------- device, skipped without a GPU

#define REQUIRE_DEVICE() \
  if (!llvq::cuda::device_available()) GTEST_SKIP() << "no CUDA device"

TEST(CudaDevice, DecodeToHalfEqualsTheCpuDecodeRoundedToHalf) {
  REQUIRE_DEVICE();
  for (const Case& k : kCases) {
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 21);
    const llvq::cuda::DeviceMatrix m = upload(c);
    EXPECT_EQ(m.rows(), k.rows);
    EXPECT_EQ(m.cols(), k.cols);
    std::vector<float> want(static_cast<size_t>(k.rows * k.cols));
    llvq::cuda::detail::decode_rows_host(layout_of(c), 0, k.rows, want.data());  // checked against the codec above
    const auto got = m.decode_half();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], llvq::float_to_fp16(want[i])) << "weight " << i;
  }
}

TEST(CudaDevice, FusedGemvEqualsTheCpuProductForFloatAndHalfX) {
  REQUIRE_DEVICE();
  for (const Case& k : kCases) {
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 31);
    const llvq::cuda::DeviceMatrix m = upload(c);
    const auto w = codec_decode(c);
    const auto x = llvq::test::gaussian(static_cast<size_t>(k.cols), 32);
    expect_gemv_close(w, x, m.gemv(x), k.rows, k.cols);
    std::vector<uint16_t> xh(x.size());
    std::vector<float> x_rounded(x.size());
    for (size_t i = 0; i < x.size(); ++i) xh[i] = llvq::float_to_fp16(x[i]), x_rounded[i] = llvq::fp16_to_float(xh[i]);
    expect_gemv_close(w, x_rounded, m.gemv_half(xh), k.rows, k.cols);
  }
}

// The Leech GEMV kernel and its host twin make the same float operations in the same order
// (explicit fmaf, the same lane assignment and shuffle tree): equal bit for bit.
TEST(CudaDevice, LeechFusedGemvEqualsItsHostTwinBitForBit) {
  REQUIRE_DEVICE();
  for (const Case& k : kCases) {
    if (is_e8p(k)) continue;
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 33);
    const llvq::cuda::DeviceMatrix m = upload(c);
    const auto x = llvq::test::gaussian(static_cast<size_t>(k.cols), 34);
    EXPECT_EQ(m.gemv(x), twin_gemv(layout_of(c), x));
  }
}

TEST(CudaDevice, EscapedBlocksDecodeAndMultiplyOnTheDevice) {
  REQUIRE_DEVICE();
  const Coded c = escape_matrix();
  const HostLayout l = layout_of(c);
  ASSERT_FALSE(l.escapes.empty());
  const llvq::cuda::DeviceMatrix m = upload(c);
  std::vector<float> w(static_cast<size_t>(c.rows * c.cols));
  llvq::cuda::detail::decode_rows_host(l, 0, c.rows, w.data());
  const auto half = m.decode_half();
  for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(half[i], llvq::float_to_fp16(w[i])) << "weight " << i;
  const auto x = llvq::test::gaussian(static_cast<size_t>(c.cols), 19);
  EXPECT_EQ(m.gemv(x), twin_gemv(l, x));
}

// Several tokens at once (chunks of up to 8): each token's result is the one-token kernel's
// (for Leech its host twin's) bit for bit; a wrong-sized x is refused.
TEST(CudaDevice, GemmEqualsTheOneTokenResultsBitForBit) {
  REQUIRE_DEVICE();
  for (const Case& k : kCases) {
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 37);
    const llvq::cuda::DeviceMatrix m = upload(c);
    const HostLayout l = layout_of(c);
    for (const int64_t tokens : {3, 8, 11}) {
      const auto xs = llvq::test::gaussian(static_cast<size_t>(tokens * k.cols), 38);
      const auto ys = m.gemm(xs, tokens);
      ASSERT_EQ(static_cast<int64_t>(ys.size()), tokens * k.rows);
      for (int64_t t = 0; t < tokens; ++t) {
        const std::vector<float> x(xs.begin() + t * k.cols, xs.begin() + (t + 1) * k.cols);
        const std::vector<float> want = is_e8p(k) ? m.gemv(x) : twin_gemv(l, x);
        EXPECT_EQ(std::vector<float>(ys.begin() + t * k.rows, ys.begin() + (t + 1) * k.rows), want)
            << tokens << " tokens, token " << t;
      }
    }
    EXPECT_THROW(m.gemm(std::vector<float>(static_cast<size_t>(k.cols) + 1), 1), llvq::InputError);
  }
}

// The lane-per-block variant of the Leech GEMV (the bench compares it with the default).
TEST(CudaDevice, LeechLanePerBlockGemvEqualsTheCpuProduct) {
  REQUIRE_DEVICE();
  for (const Case& k : kCases) {
    if (is_e8p(k)) continue;
    SCOPED_TRACE(name(k));
    const Coded c = make_coded(k.spec, k.rows, k.cols, 35);
    const llvq::cuda::DeviceMatrix m = upload(c);
    const auto x = llvq::test::gaussian(static_cast<size_t>(k.cols), 36);
    const llvq::cuda::detail::LeechGemvScope variant(llvq::cuda::detail::LeechGemv::LanePerBlock);
    expect_gemv_close(codec_decode(c), x, m.gemv(x), k.rows, k.cols);
  }
}

// The CPU kernels (llvq/kernels.hpp) on the same matrix: the GPU copy made from a PackedMatrix
// gives the CPU fused GEMV's result within float tolerance.
TEST(CudaDevice, FusedGemvEqualsTheCpuKernelsOnAPackedMatrix) {
  REQUIRE_DEVICE();
  for (const Case& k : kCases) {
    const Coded c = make_coded(k.spec, k.rows, k.cols, 51);
    if (!llvq::kernels::has_kernels(*c.codec)) continue;  // no CPU kernels for this family in this build
    SCOPED_TRACE(name(k));
    const auto packed = llvq::kernels::pack(*c.codec, c.codes.data(), c.codes.size(), c.rows, c.cols);
    const llvq::cuda::DeviceMatrix m(*packed);
    const auto x = llvq::test::gaussian(static_cast<size_t>(k.cols), 52);
    std::vector<float> cpu(static_cast<size_t>(k.rows)), w(static_cast<size_t>(k.rows * k.cols));
    llvq::kernels::gemv(*packed, x.data(), cpu.data(), 1);
    llvq::kernels::decode(*packed, w.data(), 1);
    const auto gpu = m.gemv(x);
    ASSERT_EQ(gpu.size(), cpu.size());
    for (int64_t r = 0; r < k.rows; ++r) {
      double magnitude = 0;
      for (int64_t col = 0; col < k.cols; ++col)
        magnitude += std::abs(static_cast<double>(w[static_cast<size_t>(r * k.cols + col)]) * x[static_cast<size_t>(col)]);
      EXPECT_NEAR(gpu[static_cast<size_t>(r)], cpu[static_cast<size_t>(r)], 1e-6 + 2.0 * k.cols * 1.2e-7 * magnitude)
          << "row " << r;
    }
  }
}

TEST(CudaDevice, GemvRejectsAWrongLengthX) {
  REQUIRE_DEVICE();
  const Coded c = make_coded("e8p", 4, 16, 41);
  const llvq::cuda::DeviceMatrix m = upload(c);
  EXPECT_THROW(m.gemv(std::vector<float>(15)), llvq::InputError);
}

TEST(CudaDevice, BenchReportsBaselinesAndEveryCodec) {
  REQUIRE_DEVICE();
  llvq::kernels::GemvBenchConfig config;
  config.rows = 64;
  config.cols = 256;
  config.codecs = {"e8p"};
  config.min_seconds = 0.01;
  const auto report = llvq::cuda::bench_gemv(config);
  const auto& rows = report.rows;
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(report.skipped.empty());
  EXPECT_EQ(rows[0].codec, "fp32");
  EXPECT_EQ(rows[1].codec, "fp16");
  for (const auto& row : rows) {
    EXPECT_GT(row.seconds, 0);
    EXPECT_GT(row.speedup_vs_fp16, 0);
  }
  for (const auto& row : rows) EXPECT_GT(row.copy_fraction, 0);
  config.tokens = 3;  // cuBLAS GEMMs with n = 3 and the codec's batched row
  const auto batched = llvq::cuda::bench_gemv(config);
  ASSERT_EQ(batched.rows.size(), 7u);
  EXPECT_EQ(batched.rows.back().kernel, "fused-gemm x3");
  config.tokens = 1;
  config.codecs = {"e8p", "llvq-sg"};  // 256 columns are no whole number of 24-weight blocks
  const auto partial = llvq::cuda::bench_gemv(config);
  EXPECT_EQ(partial.rows.size(), 4u);
  ASSERT_EQ(partial.skipped.size(), 1u);
  EXPECT_EQ(partial.skipped[0].first, "llvq-sg");
  config.codecs = {"scalar:bpw=2"};
  EXPECT_THROW(llvq::cuda::bench_gemv(config), llvq::InputError);
}

}  // namespace
