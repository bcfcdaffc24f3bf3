// GLVQ kernels (kernels::pack_grouped_lattice): the reference decode against a second, direct
// implementation of GLVQ's decode formula and against GlvqTensor::dequantize; every SIMD level
// against the reference (decode and GEMV, linear and companding groups, every bit width 0..9,
// D = 8, 24, 32, partial last groups, row scales); the code stream round trip; bad input; and
// QuantizedLinear running GLVQ layers from their codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernel_checks.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/error.hpp"
#include "llvq/glvq.hpp"
#include "llvq/kernels.hpp"
#include "llvq/quantize.hpp"
#include "llvq/quantized_model.hpp"

namespace {

using llvq::InputError;
using llvq::kernels::GroupedLatticeCodes;
using llvq::kernels::Isa;

struct Shape {
  int64_t rows, cols;
  int dim;
  int64_t group_width;
  bool companding, row_scale;
};

// Random but valid codes: G near a scaled identity (floats, as the kernels hold it), μ in
// GLVQ's range, group widths cycling through 0..9 bits so that every width (and 9, the
// widest) is exercised.
GroupedLatticeCodes random_codes(const Shape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  GroupedLatticeCodes k;
  k.spec = "test";
  k.rows = s.rows;
  k.cols = s.cols;
  k.dim = s.dim;
  k.group_width = s.group_width;
  const int64_t groups = (s.cols + s.group_width - 1) / s.group_width;
  int64_t bits = 0;
  for (int64_t g = 0; g < groups; ++g) {
    const int b = static_cast<int>((seed + static_cast<uint64_t>(g)) % 10);
    k.bits.push_back(static_cast<uint8_t>(b));
    const double step = std::ldexp(1.0, -std::max(b, 1)) * (s.companding ? 1.0 : 0.1);
    for (int i = 0; i < s.dim; ++i)
      for (int j = 0; j < s.dim; ++j) k.g.push_back(static_cast<float>(step * ((i == j ? 1.0 : 0.0) + 0.2 * n(rng))));
    if (s.companding) {
      k.mu.push_back(10 + 245 * u(rng));
      k.scale.push_back(0.01 + 0.1 * u(rng));
    }
    bits += s.rows * std::min(s.group_width, s.cols - g * s.group_width) * b;
  }
  llvq::BitWriter w;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t width = std::min(s.group_width, s.cols - g * s.group_width);
    for (int64_t i = 0; i < s.rows * width; ++i) w.put(rng(), k.bits[static_cast<size_t>(g)]);
  }
  k.codes = w.bytes();
  EXPECT_EQ(static_cast<int64_t>(k.codes.size()), (bits + 7) / 8);
  if (s.row_scale)
    for (int64_t r = 0; r < s.rows; ++r) k.row_scale.push_back(static_cast<float>(std::exp(3 * n(rng))));
  return k;
}

// GLVQ's decode written out directly (no shared code with the kernels): the oracle.
std::vector<double> direct_decode(const GroupedLatticeCodes& k) {
  std::vector<double> out(static_cast<size_t>(k.rows * k.cols), 0.0);
  llvq::BitReader in(k.codes.data(), k.codes.size());
  const int d = k.dim;
  const int64_t groups = (k.cols + k.group_width - 1) / k.group_width;
  for (int64_t g = 0; g < groups; ++g) {
    const int b = k.bits[static_cast<size_t>(g)];
    const int64_t c0 = g * k.group_width, width = std::min(k.group_width, k.cols - c0);
    const double center = (std::pow(2.0, b) - 1) / 2;
    const double* gm = k.g.data() + g * d * d;
    for (int64_t r = 0; r < k.rows; ++r)
      for (int64_t blk = 0; blk < width; blk += d) {
        std::vector<double> q(static_cast<size_t>(d));
        for (int j = 0; j < d; ++j) q[static_cast<size_t>(j)] = static_cast<double>(in.get(b)) - center;
        for (int i = 0; i < d; ++i) {
          double y = 0;
          for (int j = 0; j < d; ++j) y += gm[i * d + j] * q[static_cast<size_t>(j)];
          if (b == 0) y = 0;
          if (!k.mu.empty()) {
            const double mu = k.mu[static_cast<size_t>(g)], s = k.scale[static_cast<size_t>(g)];
            y = s * (y < 0 ? -1 : 1) * (std::pow(1 + mu, std::abs(y)) - 1) / mu;
          }
          const double rs = k.row_scale.empty() ? 1.0 : k.row_scale[static_cast<size_t>(r)];
          out[static_cast<size_t>(r * k.cols + c0 + blk + i)] = rs * y;
        }
      }
  }
  return out;
}

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  for (bool companding : {false, true})
    for (bool row_scale : {false, true}) {
      out.push_back({3, 136, 8, 32, companding, row_scale});   // 5 groups, the last 8 wide
      out.push_back({5, 400, 8, 128, companding, row_scale});  // 4 groups, the last 16 wide
      out.push_back({2, 96, 24, 48, companding, row_scale});
      out.push_back({4, 72, 24, 72, companding, row_scale});
      out.push_back({3, 224, 32, 96, companding, row_scale});
      out.push_back({1, 32, 32, 32, companding, row_scale});
    }
  return out;
}

std::string describe(const Shape& s) {
  return std::to_string(s.rows) + "x" + std::to_string(s.cols) + " D=" + std::to_string(s.dim) +
         " group=" + std::to_string(s.group_width) + (s.companding ? " companding" : "") +
         (s.row_scale ? " row_scale" : "");
}

// The reference decode equals the direct formula to float rounding of the same double value.
TEST(GlvqKernels, ReferenceDecodeMatchesTheFormula) {
  uint64_t seed = 1;
  for (const Shape& s : shapes())
    for (int rep = 0; rep < 10; ++rep, ++seed) {
      const GroupedLatticeCodes k = random_codes(s, seed);
      const auto m = llvq::kernels::pack_grouped_lattice(k);
      std::vector<float> got(static_cast<size_t>(s.rows * s.cols));
      m->decode_rows(0, s.rows, got.data(), Isa::Scalar);
      const std::vector<double> want = direct_decode(k);
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-12 * std::abs(want[i]) + std::abs(want[i]) * 6e-8 + 1e-30)
            << describe(s) << " seed " << seed << " at " << i;
    }
}

TEST(GlvqKernels, CodeStreamRoundTrips) {
  uint64_t seed = 100;
  for (const Shape& s : shapes()) {
    const GroupedLatticeCodes k = random_codes(s, seed++);
    EXPECT_EQ(llvq::kernels::pack_grouped_lattice(k)->to_codes(), k.codes) << describe(s);
  }
}

// SIMD decode: float arithmetic (G·z in float, the expansion by a polynomial exp) against the
// double reference; GEMV of every level against the reference's decoded matrix in double.
TEST(GlvqKernels, EveryLevelMatchesTheReference) {
  uint64_t seed = 1000;
  for (const Shape& s : shapes())
    for (int rep = 0; rep < 10; ++rep, ++seed) {
      const GroupedLatticeCodes k = random_codes(s, seed);
      const auto m = llvq::kernels::pack_grouped_lattice(k);
      std::vector<float> ref(static_cast<size_t>(s.rows * s.cols));
      m->decode_rows(0, s.rows, ref.data(), Isa::Scalar);
      double largest = 0;
      for (float v : ref) largest = std::max(largest, std::abs(static_cast<double>(v)));
      std::mt19937_64 rng(seed);
      std::normal_distribution<float> n(0.0f, 1.0f);
      std::vector<float> x(static_cast<size_t>(s.cols));
      for (float& v : x) v = n(rng);
      for (Isa isa : llvq::test::supported_isas()) {
        const std::string what = describe(s) + " seed " + std::to_string(seed) + " " + llvq::kernels::to_string(isa);
        std::vector<float> got(ref.size());
        m->decode_rows(0, s.rows, got.data(), isa);
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_NEAR(got[i], ref[i], 2e-5 * std::abs(ref[i]) + 1e-6 * largest) << what << " at " << i;
        // Rows [1, rows) alone too: the row offset of gemv_rows.
        for (int64_t r0 : {int64_t{0}, std::min<int64_t>(1, s.rows - 1)}) {
          std::vector<float> y(static_cast<size_t>(s.rows - r0), NAN);
          m->gemv_rows(x.data(), r0, s.rows, y.data(), isa);
          const std::vector<float> w(ref.begin() + r0 * s.cols, ref.end());
          llvq::test::expect_gemv_close(y, w, x, s.rows - r0, s.cols, what);
        }
      }
    }
}

// Chunk exponents that would overflow a float product: all codes at the top of the box, G's
// first four columns +3 and last four −3, μ = 255, so y = 0 while each 2-code chunk's exponent
// is ±ln(256)·9 ≈ ±50. Such a group must decode by G·z (w = 0), not to inf·0 = NaN.
TEST(GlvqKernels, LargeChunkExponentsFallBackToGz) {
  GroupedLatticeCodes k;
  k.spec = "test";
  k.rows = 2;
  k.cols = 16;
  k.dim = 8;
  k.group_width = 16;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) k.g.push_back(j < 4 ? 3.0 : -3.0);
  k.mu = {255};
  k.scale = {0.1};
  k.bits = {2};
  k.codes.assign(2 * 16 * 2 / 8, 0xff);
  const auto m = llvq::kernels::pack_grouped_lattice(k);
  std::vector<float> x(16, 1.0f);
  for (Isa isa : llvq::test::supported_isas()) {
    std::vector<float> w(32, NAN), y(2, NAN);
    m->decode_rows(0, 2, w.data(), isa);
    m->gemv_rows(x.data(), 0, 2, y.data(), isa);
    for (float v : w) EXPECT_EQ(v, 0.0f) << llvq::kernels::to_string(isa);
    for (float v : y) EXPECT_EQ(v, 0.0f) << llvq::kernels::to_string(isa);
  }
}

TEST(GlvqKernels, RejectsBadInput) {
  const GroupedLatticeCodes good = random_codes({3, 64, 8, 32, true, true}, 5);
  ASSERT_NO_THROW(llvq::kernels::pack_grouped_lattice(good));
  auto expect_bad = [&](auto&& change, const char* what) {
    GroupedLatticeCodes k = good;
    change(k);
    EXPECT_THROW(llvq::kernels::pack_grouped_lattice(k), InputError) << what;
  };
  expect_bad([](GroupedLatticeCodes& k) { k.codes.pop_back(); }, "truncated codes");
  expect_bad([](GroupedLatticeCodes& k) { k.codes.push_back(0); }, "extra code byte");
  expect_bad([](GroupedLatticeCodes& k) { k.bits[0] = 10; }, "bit width 10");
  expect_bad([](GroupedLatticeCodes& k) { k.bits.pop_back(); }, "missing bit width");
  expect_bad([](GroupedLatticeCodes& k) { k.g[3] = NAN; }, "NaN in G");
  expect_bad([](GroupedLatticeCodes& k) { k.g.pop_back(); }, "short G");
  expect_bad([](GroupedLatticeCodes& k) { k.mu[1] = 0; }, "μ = 0");
  expect_bad([](GroupedLatticeCodes& k) { k.scale[0] = INFINITY; }, "infinite scale");
  expect_bad([](GroupedLatticeCodes& k) { k.scale.pop_back(); }, "μ without scale");
  expect_bad([](GroupedLatticeCodes& k) { k.row_scale[2] = 0; }, "zero row scale");
  expect_bad([](GroupedLatticeCodes& k) { k.row_scale[2] = NAN; }, "NaN row scale");
  expect_bad([](GroupedLatticeCodes& k) { k.row_scale.pop_back(); }, "missing row scale");
  expect_bad([](GroupedLatticeCodes& k) { k.dim = 16; }, "dim 16");
  expect_bad([](GroupedLatticeCodes& k) { k.group_width = 20; }, "group not a multiple of dim");
  expect_bad([](GroupedLatticeCodes& k) { k.cols = 60; }, "cols not a multiple of dim");
  expect_bad([](GroupedLatticeCodes& k) { k.rows = 0; }, "no rows");
}

// Real GLVQ tensors: the kernels decode what GlvqTensor::dequantize gives (to float rounding of
// double sums taken in another order), and a QuantizedLinear runs the Babai variants from their
// codes with the outputs of the dense execution, the Leech decoder on dense weights.
TEST(GlvqKernels, QuantizedLinearRunsGlvqFromCodes) {
  using llvq::QuantizedLinear;
  const int64_t rows = 24, cols = 200;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = 0.05f * n(rng);
  std::vector<float> x(static_cast<size_t>(3 * cols));
  for (float& v : x) v = n(rng);
  const Eigen::MatrixXd h = Eigen::MatrixXd::Identity(cols, cols);
  for (const std::string spec :
       {"glvq:dim=8,group=64,bits=2,iterations=5", "glvq:dim=8,bits=3,learn=0,companding=0,row_scale=1",
        "glvq:dim=24,group=96,bits=2,learn=0,row_scale=1,feedback=1", "glvq:dim=32,group=64,bits=2,learn=0",
        "glvq:dim=24,group=96,bits=2,learn=0,decoder=leech"}) {
    llvq::TensorQuantOptions o;
    o.codec = spec;
    o.hadamard_seed = 3;
    const auto t = llvq::quantize_tensor(w.data(), rows, cols, h, o).tensor;
    const QuantizedLinear kernels(t), dense(t, QuantizedLinear::Execution::Dense);
    const bool babai = spec.find("leech") == std::string::npos;
    EXPECT_EQ(kernels.uses_kernels(), babai) << spec;
    if (babai) {
      const auto packed = t->pack_for_kernels();
      ASSERT_EQ(packed.size(), 1u) << spec;
      const llvq::GlvqTensor g =
          llvq::GlvqTensor::from_blobs(t->header().codec, t->header().rows, t->header().cols, t->code_blobs());
      const std::vector<float> want = g.dequantize();
      const int64_t padded = packed[0]->cols();
      std::vector<float> got(static_cast<size_t>(rows * padded));
      packed[0]->decode_rows(0, rows, got.data(), Isa::Scalar);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          ASSERT_NEAR(got[static_cast<size_t>(r * padded + c)], want[static_cast<size_t>(r * cols + c)],
                      1e-6 * std::abs(want[static_cast<size_t>(r * cols + c)]) + 1e-12)
              << spec << " at " << r << ", " << c;
    }
    // One token (fused GEMV) and three (decoded); the dense layer is the oracle.
    const std::vector<float> wq = dense.dense_weight();
    for (int64_t tokens : {int64_t{1}, int64_t{3}}) {
      std::vector<float> y(static_cast<size_t>(tokens * rows)), y_dense(y.size());
      kernels.forward(x.data(), y.data(), tokens);
      dense.forward(x.data(), y_dense.data(), tokens);
      for (int64_t k = 0; k < tokens; ++k)
        for (int64_t r = 0; r < rows; ++r) {
          double magnitude = 0;
          for (int64_t c = 0; c < cols; ++c)
            magnitude += std::abs(static_cast<double>(wq[static_cast<size_t>(r * cols + c)]) *
                                  x[static_cast<size_t>(k * cols + c)]);
          const size_t i = static_cast<size_t>(k * rows + r);
          EXPECT_NEAR(y[i], y_dense[i], 1e-5 * magnitude + 1e-6) << spec << " tokens " << tokens << " output " << i;
        }
    }
    // In memory: the codes as in the file, G as floats instead of fp16, c·G·1, float row scales
    // and at most 16 KiB of chunk tables per group.
    if (babai) {
      const llvq::GlvqConfig cfg = llvq::GlvqConfig::parse(spec);
      const uint64_t groups = static_cast<uint64_t>((t->header().body_cols + cfg.group - 1) / cfg.group);
      const uint64_t side = groups * (static_cast<uint64_t>(cfg.dim) * (2 * cfg.dim + 4) + (16 << 10));
      EXPECT_LE(kernels.resident_bytes(), (t->payload_bits() + 7) / 8 + side + 2 * rows) << spec;
    }
  }
}

}  // namespace
