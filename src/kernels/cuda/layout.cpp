// Host side of the CUDA kernels: bitstream → GPU layout, the decode tables, and the host twin
// of the decode kernel (see layout.hpp).
#include "kernels/cuda/layout.hpp"

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "kernels/leech_tables.hpp"
#include "llvq/error.hpp"

namespace llvq::cuda::detail {

namespace {

E8pTables build_e8p_tables() {
  E8pTables t{};
  for (uint32_t k = 0; k < kE8pPatterns; ++k) {
    // Code k has all sign bits clear and shift +¼, so coordinate i is ±|a_i|/2 + ¼ (only the
    // implied sign of coordinate 7 may be minus); the magnitude is what the table stores.
    const auto y = e8p_codeword(k);
    for (int i = 0; i < kE8pDim; ++i) {
      const long halves = std::lround(std::abs(y[i] - 0.25) * 2.0);
      if (halves < 1 || halves > 7 || halves % 2 == 0) throw std::logic_error("E8P codebook is not as expected");
      t.pattern[k] |= static_cast<uint32_t>(halves) << (4 * i);
    }
  }
  return t;
}

// Leech tables per codec spec, built once (a few hundred kB each); nullptr when the codec is
// not a Leech-ball codec or its ball does not fit the split word.
const kernels::leech::BlockTables* leech_tables(const Codec& codec) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<kernels::leech::BlockTables>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::string spec = codec.spec();
  if (auto it = cache.find(spec); it != cache.end()) return it->second.get();
  std::unique_ptr<kernels::leech::BlockTables> tables;
  const KernelLayout layout = codec.kernel_layout();
  if (const auto* params = std::get_if<LeechLayout>(&layout)) {
    try {
      tables = kernels::leech::make_block_tables(*params);
    } catch (const InputError&) {
      // no split word for this ball: no kernels
    }
  }
  return (cache[spec] = std::move(tables)).get();
}

// The family of a codec and its tables; false when there are no CUDA kernels for it.
bool family_of(const Codec& codec, Family& family, const void*& tables, size_t& table_bytes) {
  if (codec.name() == "e8p") {
    family = Family::E8p;
    tables = &e8p_tables();
    table_bytes = sizeof(E8pTables);
    return true;
  }
  if (const auto* t = leech_tables(codec)) {
    family = Family::Leech;
    tables = t;
    table_bytes = sizeof(kernels::leech::BlockTables);
    return true;
  }
  return false;
}

void put_code(HostLayout& l, int64_t r, int64_t j, uint64_t code) {
  std::memcpy(l.codes.data() + static_cast<size_t>((r * l.blocks_per_row + j) * l.code_bytes), &code,
              static_cast<size_t>(l.code_bytes));  // little-endian host
}

// The block codes of one row (after its side information): validated and converted.
void read_block_codes(const Codec& codec, BitReader& in, int64_t r, HostLayout& l) {
  if (l.family == Family::E8p) {
    for (int64_t j = 0; j < l.blocks_per_row; ++j) put_code(l, r, j, in.get(16));  // every 16-bit code is valid
    return;
  }
  const auto& t = *static_cast<const kernels::leech::BlockTables*>(l.tables);
  for (int64_t j = 0; j < l.blocks_per_row; ++j) {
    const auto gain = static_cast<uint32_t>(in.get(t.gain_bits));
    const uint64_t index = in.get(t.ball_bits);
    if (index >= t.ball_size || index < t.min_index)
      throw InputError(codec.spec() + ": row " + std::to_string(r) + ", block " + std::to_string(j) +
                       ": invalid ball index " + std::to_string(index));
    put_code(l, r, j, kernels::leech::leech_split(t, gain, index));
  }
}

}  // namespace

bool cuda_handles(const Codec& codec) {
  Family f;
  const void* t;
  size_t n;
  return family_of(codec, f, t, n);
}

const E8pTables& e8p_tables() {
  static const E8pTables tables = build_e8p_tables();
  return tables;
}

uint16_t HostLayout::e8p_code(int64_t r, int64_t j) const {
  uint16_t c;
  std::memcpy(&c, codes.data() + static_cast<size_t>((r * blocks_per_row + j) * 2), 2);
  return c;
}
uint64_t HostLayout::leech_word(int64_t r, int64_t j) const {
  uint64_t w;
  std::memcpy(&w, codes.data() + static_cast<size_t>((r * blocks_per_row + j) * 8), 8);
  return w;
}

HostLayout make_layout(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows, int64_t cols) {
  HostLayout l;
  if (!family_of(codec, l.family, l.tables, l.table_bytes))
    throw InputError("no CUDA kernels for codec " + codec.spec());
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
  l.code_bytes = l.family == Family::E8p ? 2 : 8;
  l.blocks_per_row = cols / l.block_dim;
  l.codes.resize(static_cast<size_t>(rows * l.blocks_per_row * l.code_bytes));
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
    read_block_codes(codec, in, r, l);
  }
  return l;
}

void decode_rows_host(const HostLayout& l, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* scale = l.scales.data() + r * l.groups_per_row;
    for (int64_t j = 0; j < l.blocks_per_row; ++j) {
      float* w = out + (r - r0) * l.cols + j * l.block_dim;
      const float s = scale[j / l.blocks_per_group];
      if (l.family == Family::E8p) {
        e8p_decode_block(e8p_tables().pattern, l.e8p_code(r, j), w);
        for (int i = 0; i < l.block_dim; ++i) w[i] *= s;
      } else {
        kernels::leech::decode_block(*static_cast<const kernels::leech::BlockTables*>(l.tables), l.leech_word(r, j), s,
                                     w);
      }
    }
  }
}

}  // namespace llvq::cuda::detail

namespace llvq::cuda {
bool has_kernels(const Codec& codec) { return detail::cuda_handles(codec); }
}  // namespace llvq::cuda
