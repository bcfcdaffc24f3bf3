// Host side of the CUDA kernels: bitstream → GPU layout, the E8P table, and the host twin of the
// decode kernel (see layout.hpp).
#include "kernels/cuda/layout.hpp"

#include <cmath>

#include "codec/codec_impl.hpp"
#include "llvq/error.hpp"

namespace llvq::cuda::detail {

namespace {

// The codec's name selects the family; its spec's other parameters (factor, group) only change
// the scales, which travel in the layout.
bool family_of(const Codec& codec, Family& family) {
  if (codec.name() == "e8p") {
    family = Family::E8p;
    return true;
  }
  return false;
}

E8pTables build_e8p_tables() {
  E8pTables t{};
  for (uint32_t k = 0; k < kE8pPatterns; ++k) {
    // Code k has all sign bits clear and shift +¼, so coordinate i is |a_i|/2 + ¼ except for
    // the implied sign of coordinate 7; the magnitude is what the table stores.
    const auto y = codec_detail::e8p_codeword(k);
    for (int i = 0; i < kE8pDim; ++i) {
      const long halves = std::lround(std::abs(y[i] - 0.25) * 2.0);
      if (halves < 1 || halves > 7 || halves % 2 == 0) throw std::logic_error("E8P codebook is not as expected");
      t.pattern[k] |= static_cast<uint32_t>(halves) << (4 * i);
    }
  }
  return t;
}

}  // namespace

bool cuda_handles(const Codec& codec) {
  Family f;
  return family_of(codec, f);
}

const E8pTables& e8p_tables() {
  static const E8pTables tables = build_e8p_tables();
  return tables;
}

HostLayout make_layout(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows, int64_t cols) {
  HostLayout l;
  if (!family_of(codec, l.family)) throw InputError("no CUDA kernels for codec " + codec.spec());
  if (rows <= 0 || cols <= 0)
    throw InputError("CUDA layout: bad shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  codec.check_row_length(static_cast<size_t>(cols));
  const size_t row_bits = codec.row_bits(static_cast<size_t>(cols));
  const size_t need = (static_cast<size_t>(rows) * row_bits + 7) / 8;
  if (size != need)
    throw InputError("CUDA layout: " + std::to_string(size) + " code bytes for " + std::to_string(rows) +
                     " rows of " + std::to_string(cols) + " weights of " + codec.spec() + " (expected " +
                     std::to_string(need) + ")");
  l.spec = codec.spec();
  l.rows = rows;
  l.cols = cols;
  l.block_dim = static_cast<int>(codec.block_dim());
  const int bits = static_cast<int>(codec.block_bits());
  l.words_per_block = (bits + 15) / 16;
  l.blocks_per_row = cols / l.block_dim;
  l.codes.resize(static_cast<size_t>(rows * l.blocks_per_row * l.words_per_block));
  for (int64_t r = 0; r < rows; ++r) {
    BitReader in(codes, size, static_cast<size_t>(r) * row_bits, static_cast<size_t>(r + 1) * row_bits);
    const RowSide side = codec.read_side(in, static_cast<size_t>(cols));
    if (r == 0) {
      if (side.group == 0 || side.group % static_cast<size_t>(l.block_dim) != 0 || side.scales.empty())
        throw InputError("CUDA layout: " + codec.spec() + " scales groups that are not whole blocks");
      l.blocks_per_group = static_cast<int64_t>(side.group) / l.block_dim;
      l.groups_per_row = static_cast<int64_t>(side.scales.size());
      l.scales.reserve(static_cast<size_t>(rows * l.groups_per_row));
    }
    l.scales.insert(l.scales.end(), side.scales.begin(), side.scales.end());
    uint16_t* out = l.codes.data() + r * l.blocks_per_row * l.words_per_block;
    for (int64_t j = 0; j < l.blocks_per_row; ++j)
      for (int w = 0, left = bits; w < l.words_per_block; ++w, left -= 16)
        *out++ = static_cast<uint16_t>(in.get(left < 16 ? left : 16));
  }
  return l;
}

void decode_rows_host(const HostLayout& l, int64_t r0, int64_t r1, float* out) {
  const E8pTables& t = e8p_tables();
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* code = l.codes.data() + r * l.blocks_per_row * l.words_per_block;
    const float* scale = l.scales.data() + r * l.groups_per_row;
    for (int64_t j = 0; j < l.blocks_per_row; ++j, code += l.words_per_block) {
      float* w = out + (r - r0) * l.cols + j * l.block_dim;
      e8p_decode_block(t.pattern, code[0], w);
      const float s = scale[j / l.blocks_per_group];
      for (int i = 0; i < l.block_dim; ++i) w[i] *= s;
    }
  }
}

}  // namespace llvq::cuda::detail

namespace llvq::cuda {
bool has_kernels(const Codec& codec) { return detail::cuda_handles(codec); }
}  // namespace llvq::cuda
