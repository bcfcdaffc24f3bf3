// The integer-block layout (pack_integer_blocks, llvq/kernels.hpp): validation, the scalar
// reference kernels and the dispatch to the SIMD ones (int_blocks_simd.hpp).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "kernels/int_blocks.hpp"
#include "kernels/kernels_impl.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels {

namespace int_blocks {

void decode_rows_ref(const View& m, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = 0; c < m.cols; ++c)
      out[(r - r0) * m.cols + c] = m.factors[r * m.blocks + c / kBlock] * static_cast<float>(m.values[r * m.cols + c]);
}

// Per block Σ v_i·x_i in float, then the factor times it added to the row's sum.
void gemv_rows_ref(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    float acc = 0;
    for (int64_t b = 0; b < m.blocks; ++b) {
      const int8_t* v = m.values + r * m.cols + b * kBlock;
      float d = 0;
      for (int i = 0; i < kBlock; ++i) d += static_cast<float>(v[i]) * x[b * kBlock + i];
      acc += m.factors[r * m.blocks + b] * d;
    }
    y[r - r0] = acc;
  }
}

}  // namespace int_blocks

namespace {

class IntegerBlockMatrix final : public PackedMatrix {
 public:
  explicit IntegerBlockMatrix(IntegerBlocks in) : PackedMatrix(in.rows, in.cols), in_(std::move(in)) {
    auto fail = [&](const std::string& m) { throw InputError("pack_integer_blocks (" + in_.spec + "): " + m); };
    if (in_.rows <= 0 || in_.cols <= 0 || in_.cols % int_blocks::kBlock != 0)
      fail("shape must be positive with a multiple of 24 columns");
    const int64_t blocks = in_.cols / int_blocks::kBlock;
    if (static_cast<int64_t>(in_.values.size()) != in_.rows * in_.cols) fail("values must hold rows·cols entries");
    if (static_cast<int64_t>(in_.factors.size()) != in_.rows * blocks) fail("factors must hold one per block");
    for (const float f : in_.factors)
      if (!std::isfinite(f)) fail("a block factor is NaN or infinite");
    view_ = {in_.rows, in_.cols, blocks, in_.values.data(), in_.factors.data()};
  }

  std::string codec_spec() const override { return in_.spec; }
  uint64_t bytes() const override { return in_.values.size() + sizeof(float) * in_.factors.size(); }

  void decode_rows(int64_t r0, int64_t r1, float* out, Isa isa) const override {
    using namespace int_blocks;
    detail::for_isa(isa, decode_rows_ref, decode_rows_avx2, decode_rows_avx512)(view_, r0, r1, out);
  }
  void gemv_rows(const float* x, int64_t r0, int64_t r1, float* y, Isa isa) const override {
    using namespace int_blocks;
    detail::for_isa(isa, gemv_rows_ref, gemv_rows_avx2, gemv_rows_avx512)(view_, x, r0, r1, y);
  }
  std::vector<uint8_t> to_codes() const override {
    throw InputError("the integer-block layout of " + in_.spec +
                     " keeps no codes (the tensor's own codes are in its file)");
  }

 private:
  IntegerBlocks in_;
  int_blocks::View view_;
};

}  // namespace

std::unique_ptr<PackedMatrix> pack_integer_blocks(IntegerBlocks blocks) {
  return std::make_unique<IntegerBlockMatrix>(std::move(blocks));
}

std::unique_ptr<PackedMatrix> pack_integer_blocks(const Codec& codec, const uint8_t* codes, size_t size,
                                                  int64_t rows, int64_t cols) {
  if (codec.block_dim() != int_blocks::kBlock || rows <= 0 || cols <= 0) return nullptr;
  const size_t n = static_cast<size_t>(rows * cols);
  IntegerBlocks b{codec.spec(), rows, cols, std::vector<int8_t>(n), std::vector<float>(n / int_blocks::kBlock)};
  if (!codec.decode_rows_integers(codes, size, static_cast<size_t>(rows), static_cast<size_t>(cols), b.values.data(),
                                  b.factors.data()))
    return nullptr;
  return pack_integer_blocks(std::move(b));
}

}  // namespace llvq::kernels
