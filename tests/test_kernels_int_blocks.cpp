// The integer-block layout (kernels::pack_integer_blocks) that runs the 3- and 4-bit Leech
// codes: the codecs' integer form (Codec::decode_rows_integers) against their own decode, the
// kernels at every ISA level against the scalar reference and a double product, bad input,
// and QuantizedLinear choosing the layout for those codecs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernel_checks.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/kernels.hpp"
#include "llvq/quantize.hpp"
#include "llvq/quantized_model.hpp"
#include "random.hpp"

namespace {

using llvq::InputError;
using llvq::kernels::IntegerBlocks;

// The lattice codes without kernels on their codes: shape–gain and Voronoi, per-row and
// per-group scales.
const char* const kSpecs[] = {"llvq-sg:bpw=3", "llvq-sg:bpw=4", "llvq-ss:bpw=3", "llvq-ss:bpw=4,group=24"};

struct Coded {
  std::unique_ptr<llvq::Codec> codec;
  std::vector<uint8_t> codes;
  std::vector<float> decoded;  // Codec::decode_rows
  IntegerBlocks blocks;
};

Coded code(const std::string& spec, int64_t rows, int64_t cols, uint64_t seed) {
  Coded c;
  c.codec = llvq::make_codec(spec);
  const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), seed, 0.02);
  c.codes = c.codec->encode_rows(w.data(), rows, cols);
  c.decoded.resize(w.size());
  c.codec->decode_rows(c.codes.data(), c.codes.size(), rows, cols, c.decoded.data());
  c.blocks = {c.codec->spec(), rows, cols, std::vector<int8_t>(w.size()), std::vector<float>(w.size() / 24)};
  EXPECT_TRUE(c.codec->decode_rows_integers(c.codes.data(), c.codes.size(), rows, cols, c.blocks.values.data(),
                                            c.blocks.factors.data()))
      << spec;
  return c;
}

// factor·v is the codec's decode up to the rounding of the float factor and of the product.
TEST(IntegerBlocks, CodecIntegersTimesFactorsAreTheCodecsDecode) {
  for (const char* spec : kSpecs) {
    const Coded c = code(spec, 6, 96, 11);
    for (size_t i = 0; i < c.decoded.size(); ++i) {
      const double w = static_cast<double>(c.blocks.factors[i / 24]) * c.blocks.values[i];
      ASSERT_NEAR(w, c.decoded[i], 3e-7 * std::abs(c.decoded[i]) + 1e-30) << spec << " weight " << i;
    }
  }
}

TEST(IntegerBlocks, CodecsOfOtherFormsHaveNoIntegers) {
  for (const char* spec : {"pvq:bpw=2", "e8p", "scalar:bpw=2"}) {
    const auto codec = llvq::make_codec(spec);
    const int64_t cols = 48;
    const auto w = llvq::test::gaussian(2 * cols, 3);
    const auto codes = codec->encode_rows(w.data(), 2, cols);
    std::vector<int8_t> v(w.size());
    std::vector<float> f(w.size());
    EXPECT_FALSE(codec->decode_rows_integers(codes.data(), codes.size(), 2, cols, v.data(), f.data())) << spec;
    EXPECT_EQ(llvq::kernels::pack_integer_blocks(*codec, codes.data(), codes.size(), 2, cols), nullptr) << spec;
  }
}

// Decode: the same single multiply at every level (bit for bit); GEMV against a double
// product of that decode, every level, with an odd number of blocks per row (the kernels'
// last unpaired block).
TEST(IntegerBlocks, KernelsAtEveryLevelMatchTheReference) {
  for (const char* spec : kSpecs) {
    const int64_t rows = 5, cols = 120;
    const Coded c = code(spec, rows, cols, 7);
    const auto m = llvq::kernels::pack_integer_blocks(c.blocks);
    EXPECT_EQ(m->bytes(), static_cast<uint64_t>(rows * cols + 4 * rows * cols / 24));
    EXPECT_EQ(m->codec_spec(), c.codec->spec());
    std::vector<float> ref(static_cast<size_t>(rows * cols));
    m->decode_rows(0, rows, ref.data(), llvq::kernels::Isa::Scalar);
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(ref[i], c.decoded[i], 3e-7 * std::abs(c.decoded[i]) + 1e-30);
    const auto x = llvq::test::gaussian(static_cast<size_t>(cols), 9);
    for (const auto isa : llvq::test::supported_isas()) {
      const std::string what = std::string(spec) + " at " + llvq::to_string(isa);
      std::vector<float> got(ref.size()), y(static_cast<size_t>(rows));
      m->decode_rows(1, rows, got.data(), isa);
      for (size_t i = 0; i + cols < ref.size(); ++i) ASSERT_EQ(got[i], ref[i + cols]) << what;
      m->gemv_rows(x.data(), 0, rows, y.data(), isa);
      llvq::test::expect_gemv_close(y, ref, x, rows, cols, what);
    }
    EXPECT_THROW(m->to_codes(), InputError);
    // From the codes directly: the same matrix.
    const auto from_codes = llvq::kernels::pack_integer_blocks(*c.codec, c.codes.data(), c.codes.size(), rows, cols);
    ASSERT_NE(from_codes, nullptr) << spec;
    std::vector<float> again(ref.size());
    from_codes->decode_rows(0, rows, again.data(), llvq::kernels::Isa::Scalar);
    EXPECT_EQ(again, ref) << spec;
  }
}

TEST(IntegerBlocks, RejectsInconsistentInput) {
  const Coded c = code("llvq-ss:bpw=3", 2, 48, 5);
  auto with = [&](auto change) {
    IntegerBlocks b = c.blocks;
    change(b);
    return b;
  };
  EXPECT_NO_THROW(llvq::kernels::pack_integer_blocks(c.blocks));
  EXPECT_THROW(llvq::kernels::pack_integer_blocks(with([](IntegerBlocks& b) { b.cols = 50; })), InputError);
  EXPECT_THROW(llvq::kernels::pack_integer_blocks(with([](IntegerBlocks& b) { b.rows = 3; })), InputError);
  EXPECT_THROW(llvq::kernels::pack_integer_blocks(with([](IntegerBlocks& b) { b.factors.pop_back(); })), InputError);
  EXPECT_THROW(llvq::kernels::pack_integer_blocks(with([](IntegerBlocks& b) { b.factors[1] = NAN; })), InputError);
  EXPECT_THROW(llvq::kernels::pack_integer_blocks(with([](IntegerBlocks& b) { b.factors[0] = INFINITY; })),
               InputError);
}

// A pipeline tensor (Hadamard, a tail) of these codes runs on the integer blocks: a third of
// fp32's memory, and the outputs of its dequantized weights within float rounding.
TEST(IntegerBlocks, QuantizedLinearRunsTheLatticeCodesOnIntegerBlocks) {
  for (const char* spec : kSpecs) {
    const int64_t rows = 9, cols = 100;  // 100 = 4 blocks + a tail
    const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 21, 0.02);
    llvq::TensorQuantOptions o;
    o.codec = spec;
    o.rounding = llvq::Rounding::Rtn;
    const auto t = llvq::quantize_tensor(w.data(), rows, cols, {}, o).tensor;
    const llvq::QuantizedLinear q(t);
    ASSERT_TRUE(q.uses_kernels()) << spec;
    EXPECT_LT(q.resident_bytes(), static_cast<uint64_t>(rows * cols) * 2) << spec;
    const llvq::QuantizedLinear dense(t, llvq::QuantizedLinear::Execution::Dense);
    for (const int64_t tokens : {1, 3, 9}) {  // fused GEMV per token, and decoded bands + GEMM
      const auto x = llvq::test::gaussian(static_cast<size_t>(tokens * cols), 30 + tokens);
      std::vector<float> y(static_cast<size_t>(tokens * rows)), yd(y.size());
      q.forward(x.data(), y.data(), tokens);
      dense.forward(x.data(), yd.data(), tokens);
      for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], yd[i], 1e-5 * (std::abs(yd[i]) + 0.1)) << spec;
    }
  }
}

}  // namespace
