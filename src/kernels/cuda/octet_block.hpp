// The Leech-ball codecs on the GPU: the CPU kernels' octet word (kernels/octet_word.hpp, 56
// bits of a 64-bit code per 24-weight block), decoded per block by the LLVQ_HD functions below
// over one POD table struct, which is copied to device memory byte for byte. The host-side
// tests run these same functions against the codec's decode (no GPU needed).
//
// A block decodes as the CPU's does: the glue entry of (t, Golay message) gives each octet's
// pattern type, permutation id and signs; the layout field gives the three table positions;
// each octet is one 16-byte entry load (pattern and norm), two byte permutes (__byte_perm:
// slot i takes pattern byte perm[i]) and the signs applied to the floats. Coordinates come
// out in trio order (slot s is coordinate trio[s]); the fused GEMV gives each octet to one
// lane and multiplies it with x permuted into trio order once per call, the decode kernel
// writes the coordinates back to their natural positions.
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/host_device.hpp"
#include "kernels/octet_word.hpp"

namespace llvq::cuda::detail {

namespace octet = ::llvq::kernels::octet;

// One pattern-table entry, loaded with one 16-byte access: the 8 int8 coordinates of a
// canonical octet as two words (byte i of the pair is coordinate i) and |pattern|²/8. The norm
// rides in the pattern's sector, so a lane's octet costs one random read of the table (the
// CPU keeps 8-byte entries for its smaller caches; the whole 12 MiB fits a Hopper L2).
struct alignas(16) OctetEntry {
  uint32_t lo, hi;
  uint32_t norm8;
  uint32_t unused;
};

struct OctetBlockTables {
  OctetEntry entries[octet::kTypes << octet::kEntryBits];  // [type << kEntryBits | j]
  uint64_t glue[1 << octet::kGlueBits];                    // octet_word.hpp's glue words
  // Per permutation id, the two __byte_perm selectors that apply it to a pattern's (lo, hi):
  // bits 0..15 give output slots 0..3, bits 16..31 slots 4..7 (one nibble per slot).
  uint32_t perm_select[256];
  octet::FieldLayout layouts[octet::kLayouts + 1];
  float gemv_factor[octet::kMaxGains * octet::kMaxShells];  // as View::gemv_factor
  double gain_level[octet::kMaxGains];
  double sqrt_norm[octet::kMaxShells];
  double lattice_scale;
  uint8_t trio[octet::kDim];  // natural position of trio slot s
  int32_t kind;               // octet::Kind
  int32_t gain_bits;
};
static_assert(sizeof(OctetBlockTables) % sizeof(uint32_t) == 0);

// What a block decode reads, passed to the kernels by value (so the table bases and the gain
// width sit in the constant bank instead of being loaded from the tables every block): the
// tables' arrays at their addresses in the memory that holds them (host or device), and the
// matrix's escape list.
struct OctetView {
  const OctetEntry* entries;
  const uint64_t* glue;
  const uint32_t* perm_select;
  const octet::FieldLayout* layouts;
  const float* gemv_factor;
  const double* gain_level;
  const double* sqrt_norm;
  const uint8_t* trio;
  const octet::Escape* escapes;
  double lattice_scale;
  int32_t kind;
  int32_t gain_bits;
};

// The view of tables whose copy starts at `at` (the host struct itself, or its device copy,
// which the host never reads: only addresses are derived from `at`, the scalars come from
// `host`).
inline OctetView octet_view(const OctetBlockTables& host, const void* at, const octet::Escape* escapes) {
  const auto* base = static_cast<const char*>(at);
  auto member = [base](size_t offset) { return base + offset; };
  OctetView v;
  v.entries = reinterpret_cast<const OctetEntry*>(member(offsetof(OctetBlockTables, entries)));
  v.glue = reinterpret_cast<const uint64_t*>(member(offsetof(OctetBlockTables, glue)));
  v.perm_select = reinterpret_cast<const uint32_t*>(member(offsetof(OctetBlockTables, perm_select)));
  v.layouts = reinterpret_cast<const octet::FieldLayout*>(member(offsetof(OctetBlockTables, layouts)));
  v.gemv_factor = reinterpret_cast<const float*>(member(offsetof(OctetBlockTables, gemv_factor)));
  v.gain_level = reinterpret_cast<const double*>(member(offsetof(OctetBlockTables, gain_level)));
  v.sqrt_norm = reinterpret_cast<const double*>(member(offsetof(OctetBlockTables, sqrt_norm)));
  v.trio = reinterpret_cast<const uint8_t*>(member(offsetof(OctetBlockTables, trio)));
  v.escapes = escapes;
  v.lattice_scale = host.lattice_scale;
  v.kind = host.kind;
  v.gain_bits = host.gain_bits;
  return v;
}

// __byte_perm(a, b, s) for selectors whose nibbles are 0..7: output byte i is byte s_i of the
// eight bytes (a, b).
LLVQ_HD inline uint32_t byte_perm(uint32_t a, uint32_t b, uint32_t s) {
#ifdef __CUDA_ARCH__
  return __byte_perm(a, b, s);
#else
  const uint64_t v = static_cast<uint64_t>(b) << 32 | a;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<uint32_t>(v >> (8 * (s >> (4 * i) & 7)) & 0xFF) << (8 * i);
  return r;
#endif
}

// Byte i of w as a signed coordinate, negated when `negate`.
LLVQ_HD inline float octet_coordinate(uint32_t w, int i, uint32_t negate) {
  const float v = static_cast<float>(static_cast<int8_t>(static_cast<uint8_t>(w >> (8 * i))));
  return negate ? -v : v;
}

LLVQ_HD inline uint32_t octet_gain(const OctetView& t, uint64_t word) {
  return static_cast<uint32_t>(word) & ((1u << t.gain_bits) - 1);
}

// Octet k of a word in trio order (out[i] is coordinate trio[8k + i]) and its part of the norm
// |v|²: one lane's work in the fused GEMV. An escaped point comes from the matrix's escape list
// (its norm counted with octet 0).
LLVQ_HD inline uint32_t octet_slice(const OctetView& t, uint64_t word, int k,
                                    float* out) {
  const int g = t.gain_bits;
  const auto layout = static_cast<uint32_t>(word >> (g + octet::kGlueBits)) & ((1u << octet::kLayoutBits) - 1);
  if (layout == octet::kEscapeLayout) {
    const octet::Escape& e = t.escapes[word >> (g + octet::kGlueBits + octet::kLayoutBits)];
    LLVQ_UNROLL
    for (int i = 0; i < 8; ++i) out[i] = e.v[8 * k + i];
    return k == 0 ? e.norm : 0;
  }
  const uint64_t glue = t.glue[static_cast<uint32_t>(word >> g) & ((1u << octet::kGlueBits) - 1)];
  const octet::FieldLayout& l = t.layouts[layout];
  const uint32_t shifted = static_cast<uint32_t>(word >> l.shift[k]);
  const uint32_t j = k == 2 ? shifted : shifted & ((1u << l.width[k]) - 1);  // j2 takes every bit above
  const OctetEntry p = t.entries[octet::glue_type(glue, k) << octet::kEntryBits | j];
  const uint32_t select = t.perm_select[octet::glue_perm(glue, k)];
  const uint32_t lo = byte_perm(p.lo, p.hi, select & 0xFFFF), hi = byte_perm(p.lo, p.hi, select >> 16);
  const uint32_t negate = octet::glue_sign(glue) >> (8 * k);
  LLVQ_UNROLL
  for (int i = 0; i < 4; ++i) {
    out[i] = octet_coordinate(lo, i, negate >> i & 1);
    out[4 + i] = octet_coordinate(hi, i, negate >> (4 + i) & 1);
  }
  return 8u * p.norm8;
}

// The point of a word in trio order (u[s] is coordinate trio[s]) and its norm |v|².
LLVQ_HD inline uint32_t octet_point_trio(const OctetView& t, uint64_t word,
                                         float* u) {
  uint32_t norm = 0;
  LLVQ_UNROLL
  for (int k = 0; k < 3; ++k) norm += octet_slice(t, word, k, u + 8 * k);
  return norm;
}

// The scaled block in trio order: float(f·v_s) with the factor f of Codec::decode_rows in
// double (σ·level[g]/|v| for shape–gain, σ/s for the ball), as octet::decode_block.
LLVQ_HD inline void octet_decode_trio(const OctetView& t, uint64_t word,
                                      float scale, float* out) {
  const uint32_t norm = octet_point_trio(t, word, out);
  const double f = t.kind == static_cast<int32_t>(octet::Kind::Ball)
                       ? static_cast<double>(scale) / t.lattice_scale
                       : static_cast<double>(scale) * t.gain_level[octet_gain(t, word)] / t.sqrt_norm[norm >> 4];
  LLVQ_UNROLL
  for (int s = 0; s < octet::kDim; ++s) out[s] = static_cast<float>(f * out[s]);
}

// The fused GEMV's block factor σ·(level[g]/|v|) in float (octet::gemv_factor).
LLVQ_HD inline float octet_gemv_factor(const OctetView& t, uint64_t word, uint32_t norm, float scale) {
  return scale * t.gemv_factor[(norm >> 4) << t.gain_bits | octet_gain(t, word)];
}

// Σ_i u_i·x_i over one octet, as one lane of the fused GEMV sums it.
LLVQ_HD inline float octet_slice_dot(const float* u, const float* x) {
  float s = 0.f;
  LLVQ_UNROLL
  for (int i = 0; i < 8; ++i) s = fmaf(u[i], x[i], s);
  return s;
}

// ⟨scaled block, x⟩ with x in trio order, the whole block in one lane (the lane-per-block
// variant of the fused GEMV).
LLVQ_HD inline float octet_dot_trio(const OctetView& t, uint64_t word, float scale, const float* x) {
  float u[octet::kDim];
  const uint32_t norm = octet_point_trio(t, word, u);
  float s = 0.f;
  LLVQ_UNROLL
  for (int i = 0; i < octet::kDim; ++i) s = fmaf(u[i], x[i], s);
  return octet_gemv_factor(t, word, norm, scale) * s;
}

}  // namespace llvq::cuda::detail
