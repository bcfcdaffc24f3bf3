// AVX-512 kernels of the table family (compiled with AVX-512 flags only; self-contained).
// Two E8P blocks or 16 scalar-codec weights per register; scalar-codec layouts whose scale
// groups do not hold whole registers use the AVX2 versions.
#include <immintrin.h>

#include <cstring>

#include "kernels/table_simd.hpp"
#include "kernels/simd_sum.hpp"

namespace llvq::kernels::detail {

namespace {

// 4× the unit-scale codewords of two E8P codes, one per 256-bit half.
__m512 e8p_codeword4_pair(const E8pView& v, uint32_t c0, uint32_t c1) {
  int64_t hi;
  std::memcpy(&hi, v.codewords + 8 * c1, 8);
  const __m128i packed =
      _mm_insert_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(v.codewords + 8 * c0)), hi, 1);
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(packed));
}

// One code in a 256-bit register (an odd block count per scale group).
__m256 e8p_codeword4(const E8pView& v, uint32_t code) {
  const __m128i packed = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v.codewords + 8 * code));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(packed));
}

struct PlaneUnpack {
  __m512i index, shift, mask;
  int64_t offset;
  int bits, code_shift;
};

PlaneUnpack plane_unpack(const ScalarView& v, int p) {
  const int k = v.plane_bits[p];
  alignas(64) int32_t idx[16], sh[16];
  for (int lane = 0; lane < 16; ++lane) {
    idx[lane] = lane * k / 32;
    sh[lane] = lane * k % 32;
  }
  return PlaneUnpack{_mm512_load_si512(idx), _mm512_load_si512(sh), _mm512_set1_epi32((1 << k) - 1), v.plane_offset[p],
                     k, v.plane_shift[p]};
}

// Codes of weights [c, c + 16) of a row (c a multiple of 16): 16·k ≤ 128 bits per plane.
__m512i sq_codes(const uint8_t* row, const PlaneUnpack* planes, int n, int64_t c) {
  __m512i code = _mm512_setzero_si512();
  for (int p = 0; p < n; ++p) {
    const PlaneUnpack& u = planes[p];
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + u.offset + c * u.bits / 8));
    const __m512i spread = _mm512_permutexvar_epi32(u.index, _mm512_castsi128_si512(raw));
    const __m512i field = _mm512_and_si512(_mm512_srlv_epi32(spread, u.shift), u.mask);
    code = _mm512_or_si512(code, _mm512_slli_epi32(field, static_cast<unsigned>(u.code_shift)));
  }
  return code;
}

// Table lookup lut[code] for 16 codes, entirely in registers: kRegs = 2^bits / 16 registers
// (at least one). Up to 32 entries are one permute; wider tables permute every 32-entry
// slice and select between slices by the code's high bits, which beats a 16-element gather.
template <int kRegs>
struct Lut {
  __m512 reg[kRegs];
};

template <int kRegs>
Lut<kRegs> make_lut(const float* table) {  // table holds at least 16·kRegs entries
  Lut<kRegs> lut;
  for (int i = 0; i < kRegs; ++i) lut.reg[i] = _mm512_loadu_ps(table + 16 * i);
  return lut;
}

template <int kRegs>
__m512 lookup(const Lut<kRegs>& lut, __m512i code) {
  if constexpr (kRegs == 1) {
    return _mm512_permutexvar_ps(code, lut.reg[0]);
  } else {
    __m512 slice[kRegs / 2];
    for (int i = 0; i < kRegs / 2; ++i) slice[i] = _mm512_permutex2var_ps(lut.reg[2 * i], code, lut.reg[2 * i + 1]);
    int bit = 5;
    for (int n = kRegs / 2; n > 1; n /= 2, ++bit) {
      const __mmask16 upper = _mm512_test_epi32_mask(code, _mm512_set1_epi32(1 << bit));
      for (int i = 0; i < n / 2; ++i) slice[i] = _mm512_mask_blend_ps(upper, slice[2 * i], slice[2 * i + 1]);
    }
    return slice[0];
  }
}

int load_planes(const ScalarView& v, PlaneUnpack* planes) {
  for (int p = 0; p < v.planes; ++p) planes[p] = plane_unpack(v, p);
  return v.planes;
}

bool chunks_fit_groups(const ScalarView& v) { return v.groups == 1 || v.group % 16 == 0; }

}  // namespace

void e8p_decode_avx512(const E8pView& v, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* codes = v.codes + r * v.blocks;
    for (int64_t g = 0; g < v.groups; ++g) {
      const float s = bf16_bits_to_float(v.scales[r * v.groups + g]);
      const __m512 scale = _mm512_set1_ps(s), quarter = _mm512_set1_ps(0.25f);
      int64_t b = g * v.group_blocks;
      const int64_t end = b + v.group_blocks;
      for (; b + 2 <= end; b += 2) {
        const __m512 unit = _mm512_mul_ps(e8p_codeword4_pair(v, codes[b], codes[b + 1]), quarter);
        _mm512_storeu_ps(out + 8 * b, _mm512_mul_ps(unit, scale));
      }
      if (b < end) {
        const __m256 unit = _mm256_mul_ps(e8p_codeword4(v, codes[b]), _mm256_set1_ps(0.25f));
        _mm256_storeu_ps(out + 8 * b, _mm256_mul_ps(unit, _mm256_set1_ps(s)));
      }
    }
    out += 8 * v.blocks;
  }
}

// The ¼ of the table is folded into the group's scale (GEMV need not be bit-exact).
void e8p_gemv_avx512(const E8pView& v, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* codes = v.codes + r * v.blocks;
    __m512 total = _mm512_setzero_ps();
    __m256 odd_total = _mm256_setzero_ps();  // single blocks left over by odd groups
    for (int64_t g = 0; g < v.groups; ++g) {
      const float s = 0.25f * bf16_bits_to_float(v.scales[r * v.groups + g]);
      __m512 part0 = _mm512_setzero_ps(), part1 = _mm512_setzero_ps();
      int64_t b = g * v.group_blocks;
      const int64_t end = b + v.group_blocks;
      for (; b + 4 <= end; b += 4) {
        part0 = _mm512_fmadd_ps(e8p_codeword4_pair(v, codes[b], codes[b + 1]), _mm512_loadu_ps(x + 8 * b), part0);
        part1 = _mm512_fmadd_ps(e8p_codeword4_pair(v, codes[b + 2], codes[b + 3]), _mm512_loadu_ps(x + 8 * b + 16),
                                part1);
      }
      for (; b + 2 <= end; b += 2)
        part0 = _mm512_fmadd_ps(e8p_codeword4_pair(v, codes[b], codes[b + 1]), _mm512_loadu_ps(x + 8 * b), part0);
      total = _mm512_fmadd_ps(_mm512_add_ps(part0, part1), _mm512_set1_ps(s), total);
      if (b < end)
        odd_total = _mm256_fmadd_ps(_mm256_mul_ps(e8p_codeword4(v, codes[b]), _mm256_loadu_ps(x + 8 * b)),
                                    _mm256_set1_ps(s), odd_total);
    }
    y[r - r0] = _mm512_reduce_add_ps(total) + sum8(odd_total);
  }
}

namespace {

template <int kRegs>
void sq_decode_rows(const ScalarView& v, int64_t r0, int64_t r1, float* out) {
  PlaneUnpack planes[3];
  const int n = load_planes(v, planes);
  const int entries = 1 << v.bits;
  const int64_t simd_end = v.groups == 1 ? v.cols / 16 * 16 : v.cols;
  alignas(64) float table[256] = {};
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = v.codes + r * v.row_bytes;
    float* o = out + (r - r0) * v.cols;
    for (int64_t g = 0; g < v.groups; ++g) {
      // The codec's rounding: level × scale in double, once to float.
      const double scale = bf16_bits_to_float(v.scales[r * v.groups + g]);
      for (int k = 0; k < entries; ++k) table[k] = static_cast<float>(v.levels[k] * scale);
      const Lut<kRegs> lut = make_lut<kRegs>(table);
      const int64_t end = g * v.group + v.group < simd_end ? g * v.group + v.group : simd_end;
      for (int64_t c = g * v.group; c < end; c += 16) _mm512_storeu_ps(o + c, lookup(lut, sq_codes(row, planes, n, c)));
    }
    if (simd_end < v.cols) sq_decode_span_ref(v, r, simd_end, v.cols, o + simd_end);
  }
}

template <int kRegs>
void sq_gemv_rows(const ScalarView& v, const float* x, int64_t r0, int64_t r1, float* y) {
  PlaneUnpack planes[3];
  const int n = load_planes(v, planes);
  alignas(64) float table[256] = {};
  for (int k = 0; k < (1 << v.bits); ++k) table[k] = v.unit_levels[k];
  const Lut<kRegs> lut = make_lut<kRegs>(table);
  const int64_t simd_end = v.groups == 1 ? v.cols / 16 * 16 : v.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = v.codes + r * v.row_bytes;
    __m512 total = _mm512_setzero_ps();
    for (int64_t g = 0; g < v.groups; ++g) {
      __m512 part = _mm512_setzero_ps();
      const int64_t end = g * v.group + v.group < simd_end ? g * v.group + v.group : simd_end;
      for (int64_t c = g * v.group; c < end; c += 16)
        part = _mm512_fmadd_ps(lookup(lut, sq_codes(row, planes, n, c)), _mm512_loadu_ps(x + c), part);
      total = _mm512_fmadd_ps(part, _mm512_set1_ps(bf16_bits_to_float(v.scales[r * v.groups + g])), total);
    }
    float sum = _mm512_reduce_add_ps(total);
    if (simd_end < v.cols) sum += sq_dot_span_ref(v, r, simd_end, v.cols, x);
    y[r - r0] = sum;
  }
}

}  // namespace

// One instantiation per table size, so the table stays in registers.
void sq_decode_avx512(const ScalarView& v, int64_t r0, int64_t r1, float* out) {
  if (!chunks_fit_groups(v)) return sq_decode_avx2(v, r0, r1, out);
  switch (v.bits) {
    case 5: return sq_decode_rows<2>(v, r0, r1, out);
    case 6: return sq_decode_rows<4>(v, r0, r1, out);
    case 7: return sq_decode_rows<8>(v, r0, r1, out);
    case 8: return sq_decode_rows<16>(v, r0, r1, out);
    default: return sq_decode_rows<1>(v, r0, r1, out);
  }
}

void sq_gemv_avx512(const ScalarView& v, const float* x, int64_t r0, int64_t r1, float* y) {
  if (!chunks_fit_groups(v)) return sq_gemv_avx2(v, x, r0, r1, y);
  switch (v.bits) {
    case 5: return sq_gemv_rows<2>(v, x, r0, r1, y);
    case 6: return sq_gemv_rows<4>(v, x, r0, r1, y);
    case 7: return sq_gemv_rows<8>(v, x, r0, r1, y);
    case 8: return sq_gemv_rows<16>(v, x, r0, r1, y);
    default: return sq_gemv_rows<1>(v, x, r0, r1, y);
  }
}

}  // namespace llvq::kernels::detail
