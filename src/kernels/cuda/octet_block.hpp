// The Leech-ball codecs on the GPU: the CPU kernels' octet word (kernels/octet_word.hpp, 56
// bits of a 64-bit code per 24-weight block), decoded per block by the LLVQ_HD functions below
// over one POD table struct, which is copied to device memory byte for byte. The host-side
// tests run these same functions against the codec's decode (no GPU needed).
//
// A block decodes as the CPU's does: the glue entry of (t, Golay message) gives each octet's
// pattern type, permutation id and signs; the layout field gives the three table positions;
// each octet is one 8-byte pattern load, two byte permutes (__byte_perm: slot i takes
// pattern byte perm[i]) and the signs applied to the floats. Coordinates come out in trio
// order (slot s is coordinate trio[s]); the fused GEMV multiplies them with x permuted into
// trio order once per call, the decode kernel writes them back to their natural positions.
#pragma once

#include <math.h>
#include <stdint.h>

#include "kernels/host_device.hpp"
#include "kernels/octet_word.hpp"

namespace llvq::cuda::detail {

namespace octet = ::llvq::kernels::octet;

// One pattern-table entry: the 8 int8 coordinates of a canonical octet as two words (byte i of
// the pair is coordinate i), loaded with one 8-byte access.
struct alignas(8) OctetPattern {
  uint32_t lo, hi;
};

struct OctetBlockTables {
  OctetPattern patterns[octet::kTypes << octet::kEntryBits];  // [type << kEntryBits | j]
  uint8_t norm8[octet::kTypes << octet::kEntryBits];           // |pattern|²/8
  uint64_t glue[1 << octet::kGlueBits];                        // octet_word.hpp's glue words
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

LLVQ_HD inline uint32_t octet_gain(const OctetBlockTables& t, uint64_t word) {
  return static_cast<uint32_t>(word) & ((1u << t.gain_bits) - 1);
}

// The point of a word in trio order (u[s] is coordinate trio[s]) and its norm |v|². Escaped
// points come from the matrix's escape list.
LLVQ_HD inline uint32_t octet_point_trio(const OctetBlockTables& t, const octet::Escape* escapes, uint64_t word,
                                         float* u) {
  const int g = t.gain_bits;
  const auto layout = static_cast<uint32_t>(word >> (g + octet::kGlueBits)) & ((1u << octet::kLayoutBits) - 1);
  if (layout == octet::kEscapeLayout) {
    const octet::Escape& e = escapes[word >> (g + octet::kGlueBits + octet::kLayoutBits)];
    LLVQ_UNROLL
    for (int s = 0; s < octet::kDim; ++s) u[s] = e.v[s];
    return e.norm;
  }
  const uint64_t glue = t.glue[static_cast<uint32_t>(word >> g) & ((1u << octet::kGlueBits) - 1)];
  const octet::FieldLayout& l = t.layouts[layout];
  const uint32_t j[3] = {static_cast<uint32_t>(word >> l.shift[0]) & ((1u << l.width[0]) - 1),
                         static_cast<uint32_t>(word >> l.shift[1]) & ((1u << l.width[1]) - 1),
                         static_cast<uint32_t>(word >> l.shift[2])};
  const uint32_t signs = octet::glue_sign(glue);
  uint32_t norm = 0;
  LLVQ_UNROLL
  for (int k = 0; k < 3; ++k) {
    const uint32_t entry = octet::glue_type(glue, k) << octet::kEntryBits | j[k];
    const OctetPattern p = t.patterns[entry];
    const uint32_t select = t.perm_select[octet::glue_perm(glue, k)];
    const uint32_t lo = byte_perm(p.lo, p.hi, select & 0xFFFF), hi = byte_perm(p.lo, p.hi, select >> 16);
    LLVQ_UNROLL
    for (int i = 0; i < 4; ++i) {
      u[8 * k + i] = octet_coordinate(lo, i, signs >> (8 * k + i) & 1);
      u[8 * k + 4 + i] = octet_coordinate(hi, i, signs >> (8 * k + 4 + i) & 1);
    }
    norm += 8u * t.norm8[entry];
  }
  return norm;
}

// The scaled block in trio order: float(f·v_s) with the factor f of Codec::decode_rows in
// double (σ·level[g]/|v| for shape–gain, σ/s for the ball), as octet::decode_block.
LLVQ_HD inline void octet_decode_trio(const OctetBlockTables& t, const octet::Escape* escapes, uint64_t word,
                                      float scale, float* out) {
  const uint32_t norm = octet_point_trio(t, escapes, word, out);
  const double f = t.kind == static_cast<int32_t>(octet::Kind::Ball)
                       ? static_cast<double>(scale) / t.lattice_scale
                       : static_cast<double>(scale) * t.gain_level[octet_gain(t, word)] / t.sqrt_norm[norm >> 4];
  LLVQ_UNROLL
  for (int s = 0; s < octet::kDim; ++s) out[s] = static_cast<float>(f * out[s]);
}

// ⟨scaled block, x⟩ with x in trio order: σ·(level[g]/|v|)·Σ v_s·x_s in float, the factor of
// octet::gemv_factor.
LLVQ_HD inline float octet_dot_trio(const OctetBlockTables& t, const octet::Escape* escapes, uint64_t word, float scale,
                                    const float* x) {
  float u[octet::kDim];
  const uint32_t norm = octet_point_trio(t, escapes, word, u);
  float s = 0.f;
  LLVQ_UNROLL
  for (int i = 0; i < octet::kDim; ++i) s = fmaf(u[i], x[i], s);
  return scale * t.gemv_factor[(norm >> 4) << t.gain_bits | octet_gain(t, word)] * s;
}

}  // namespace llvq::cuda::detail
