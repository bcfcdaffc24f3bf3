// Host side of the CUDA kernels: bitstream → GPU layout, the decode tables, and the host twin
// of the decode kernel (see layout.hpp).
#include "kernels/cuda/layout.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "kernels/octet_tables.hpp"
#include "llvq/error.hpp"

namespace llvq::cuda::detail {

namespace {

constexpr int kLanes = 32;  // a warp

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

// The GPU's copy of a codec's octet tables: the same patterns, norms, glue, layouts and factors,
// with each permutation as two __byte_perm selectors.
std::unique_ptr<OctetBlockTables> build_octet_block_tables(const octet::OctetTables& tables) {
  const octet::View v = tables.view();
  if (v.entry_bits != octet::kEntryBits) throw std::logic_error("octet tables: unexpected entry width");
  auto t = std::make_unique<OctetBlockTables>();
  for (size_t e = 0; e < std::size(t->entries); ++e) {
    int8_t values[8];
    for (int i = 0; i < 8; ++i) values[i] = octet::pattern_value(v.patterns[8 * e + static_cast<size_t>(i)]);
    std::memcpy(&t->entries[e].lo, values, 4);
    std::memcpy(&t->entries[e].hi, values + 4, 4);
    t->entries[e].norm8 = v.norm8[e];
  }
  std::memcpy(t->glue, v.glue, sizeof(t->glue));
  for (int id = 0; id < 256; ++id)
    for (int i = 0; i < 8; ++i)
      t->perm_select[id] |= static_cast<uint32_t>(v.perms[8 * id + i]) << (4 * i);
  std::memcpy(t->layouts, v.layouts, sizeof(t->layouts));
  std::memcpy(t->gemv_factor, v.gemv_factor, sizeof(t->gemv_factor));
  std::memcpy(t->gain_level, v.gain_level, sizeof(t->gain_level));
  std::memcpy(t->sqrt_norm, v.sqrt_norm, sizeof(t->sqrt_norm));
  std::memcpy(t->trio, v.trio, sizeof(t->trio));
  t->lattice_scale = v.lattice_scale;
  t->kind = static_cast<int32_t>(v.kind);
  t->gain_bits = v.gain_bits;
  return t;
}

// The family of a codec and its tables; false when there are no CUDA kernels for it.
bool family_of(const Codec& codec, Family& family, const void*& tables, size_t& table_bytes) {
  if (codec.name() == "e8p") {
    family = Family::E8p;
    tables = &e8p_tables();
    table_bytes = sizeof(E8pTables);
    return true;
  }
  if (const auto* t = octet_block_tables(codec)) {
    family = Family::Leech;
    tables = t;
    table_bytes = sizeof(OctetBlockTables);
    return true;
  }
  return false;
}

void put_code(HostLayout& l, int64_t r, int64_t j, uint64_t code) {
  std::memcpy(l.codes.data() + static_cast<size_t>((r * l.blocks_per_row + j) * l.code_bytes), &code,
              static_cast<size_t>(l.code_bytes));  // little-endian host
}

// The block codes of one row (after its side information): validated and converted. Leech
// codes go through `leech` (null for E8P), as the CPU pack reads them: every ball index
// validated, then unranked and cut into its word.
void read_block_codes(const std::string& spec, const octet::CodeReader* leech, BitReader& in, int64_t r,
                      HostLayout& l) {
  for (int64_t j = 0; j < l.blocks_per_row; ++j)  // every 16-bit E8P code is valid
    put_code(l, r, j, leech ? leech->next_word(in, l.escapes, spec, r, j) : in.get(16));
}

std::atomic<LeechGemv> g_leech_gemv{LeechGemv::LanePerOctet};

}  // namespace

void set_leech_gemv(LeechGemv variant) { g_leech_gemv.store(variant); }
LeechGemv leech_gemv() { return g_leech_gemv.load(); }

bool cuda_handles(const Codec& codec) {
  Family f;
  const void* t;
  size_t n;
  return family_of(codec, f, t, n);
}

const OctetBlockTables* octet_block_tables(const Codec& codec) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<OctetBlockTables>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::string spec = codec.spec();
  if (auto it = cache.find(spec); it != cache.end()) return it->second.get();
  std::unique_ptr<OctetBlockTables> tables;
  const KernelLayout layout = codec.kernel_layout();
  if (const auto* params = std::get_if<LeechLayout>(&layout)) {
    try {
      tables = build_octet_block_tables(octet::OctetTables::get(*params));
    } catch (const InputError&) {
      // no octet word for this ball: no kernels
    }
  }
  return (cache[spec] = std::move(tables)).get();
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
  const auto leech = l.family == Family::Leech
                         ? std::make_unique<octet::CodeReader>(std::get<LeechLayout>(codec.kernel_layout()))
                         : nullptr;
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
    read_block_codes(l.spec, leech.get(), in, r, l);
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
        const auto& t = *static_cast<const OctetBlockTables*>(l.tables);
        float trio_order[octet::kDim];
        octet_decode_trio(octet_view(t, &t, l.escapes.data()), l.leech_word(r, j), s, trio_order);
        for (int i = 0; i < octet::kDim; ++i) w[t.trio[i]] = trio_order[i];
      }
    }
  }
}

namespace {

// x in the blocks' slot order (permute_x_kernel).
std::vector<float> x_slots(const HostLayout& l, const float* x) {
  std::vector<float> slots(static_cast<size_t>(l.cols));
  for (int64_t c = 0; c < l.cols; ++c) {
    const int64_t block = c / l.block_dim, i = c % l.block_dim;
    const int64_t natural =
        l.family == Family::E8p ? i : static_cast<const OctetBlockTables*>(l.tables)->trio[static_cast<size_t>(i)];
    slots[static_cast<size_t>(c)] = x[block * l.block_dim + natural];
  }
  return slots;
}

// The warp's final shuffle tree (warp_sum), as lane 0 sees it.
float lane_tree(float* lanes) {
  for (int offset = kLanes / 2; offset > 0; offset /= 2)
    for (int lane = 0; lane < offset; ++lane) lanes[lane] += lanes[lane + offset];
  return lanes[0];
}

// E8P's fused GEMV: lane l accumulates blocks l, l + 32, ...
float e8p_row_host(const HostLayout& l, const float* xs, int64_t r) {
  float lanes[kLanes] = {};
  for (int64_t j = 0; j < l.blocks_per_row; ++j) {
    float w[kE8pDim];
    e8p_decode_block(e8p_tables().pattern, l.e8p_code(r, j), w);
    float d = 0;
    for (int i = 0; i < kE8pDim; ++i) d = std::fma(w[i], xs[j * kE8pDim + i], d);
    lanes[j % kLanes] += l.scales[static_cast<size_t>(r * l.groups_per_row + j / l.blocks_per_group)] * d;
  }
  return lane_tree(lanes);
}

// octet_gemv_kernel: lane 3b + k takes octet k of blocks b, b + 10, ...
float octet_row_host(const HostLayout& l, const float* xs, int64_t r) {
  const auto& tables = *static_cast<const OctetBlockTables*>(l.tables);
  const OctetView t = octet_view(tables, &tables, l.escapes.data());
  constexpr int kStep = kLanes / 3;
  float lanes[kLanes] = {};
  for (int64_t j = 0; j < l.blocks_per_row; ++j) {
    const uint64_t word = l.leech_word(r, j);
    float part[3];
    uint32_t norm = 0;
    for (int k = 0; k < 3; ++k) {
      float u[8];
      norm += octet_slice(t, word, k, u);
      part[k] = octet_slice_dot(u, xs + (3 * j + k) * 8);
    }
    const float f =
        octet_gemv_factor(t, word, norm, l.scales[static_cast<size_t>(r * l.groups_per_row + j / l.blocks_per_group)]);
    for (int k = 0; k < 3; ++k) {
      float& acc = lanes[3 * (j % kStep) + k];
      acc = std::fma(f, part[k], acc);
    }
  }
  return lane_tree(lanes);
}

}  // namespace

void gemv_rows_host(const HostLayout& l, const float* x, int64_t r0, int64_t r1, float* y) {
  const std::vector<float> xs = x_slots(l, x);
  for (int64_t r = r0; r < r1; ++r)
    y[r - r0] = l.family == Family::E8p ? e8p_row_host(l, xs.data(), r) : octet_row_host(l, xs.data(), r);
}

}  // namespace llvq::cuda::detail

namespace llvq::cuda {
bool has_kernels(const Codec& codec) { return detail::cuda_handles(codec); }
}  // namespace llvq::cuda
