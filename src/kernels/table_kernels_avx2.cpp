// AVX2 kernels of the table family (compiled with AVX2/FMA flags only; self-contained).
#include <immintrin.h>

#include <cstring>

#include "kernels/table_simd.hpp"
#include "kernels/simd_sum.hpp"

namespace llvq::kernels::detail {

namespace {

// 4× the unit-scale codeword of one E8P code (exact integers in float).
__m256 e8p_codeword4(const E8pView& v, uint32_t code) {
  const __m128i packed = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v.codewords + 8 * code));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(packed));
}

// Field extraction of one bit plane for 8 consecutive weights starting at a multiple of 8:
// the 8·k bits sit in the first one or two dwords of a 16-byte load.
struct PlaneUnpack {
  __m256i index, shift, mask;
  int64_t offset;
  int bits, code_shift;
};

PlaneUnpack plane_unpack(const ScalarView& v, int p) {
  const int k = v.plane_bits[p];
  alignas(32) int32_t idx[8], sh[8];
  for (int lane = 0; lane < 8; ++lane) {
    idx[lane] = lane * k / 32;
    sh[lane] = lane * k % 32;
  }
  return PlaneUnpack{_mm256_load_si256(reinterpret_cast<const __m256i*>(idx)),
                     _mm256_load_si256(reinterpret_cast<const __m256i*>(sh)), _mm256_set1_epi32((1 << k) - 1),
                     v.plane_offset[p], k, v.plane_shift[p]};
}

// Codes of weights [c, c + 8) of a row.
__m256i sq_codes(const uint8_t* row, const PlaneUnpack* planes, int n, int64_t c) {
  __m256i code = _mm256_setzero_si256();
  for (int p = 0; p < n; ++p) {
    const PlaneUnpack& u = planes[p];
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + u.offset + c * u.bits / 8));
    const __m256i spread = _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(raw), u.index);
    const __m256i field = _mm256_and_si256(_mm256_srlv_epi32(spread, u.shift), u.mask);
    code = _mm256_or_si256(code, _mm256_slli_epi32(field, u.code_shift));
  }
  return code;
}

// Table lookup lut[code] for 8 codes of `bits` bits: register permutes up to 16 entries,
// a gather beyond.
struct Lut {
  __m256 lo, hi;
  const float* table;
  int bits;
};

Lut make_lut(const float* table, int bits) {  // table holds at least 16 entries
  return Lut{_mm256_loadu_ps(table), _mm256_loadu_ps(table + 8), table, bits};
}

__m256 lookup(const Lut& lut, __m256i code) {
  if (lut.bits <= 3) return _mm256_permutevar8x32_ps(lut.lo, code);
  if (lut.bits == 4) {
    const __m256 lo = _mm256_permutevar8x32_ps(lut.lo, code), hi = _mm256_permutevar8x32_ps(lut.hi, code);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(code, 28)));
  }
  return _mm256_i32gather_ps(lut.table, code, 4);
}

int load_planes(const ScalarView& v, PlaneUnpack* planes) {
  for (int p = 0; p < v.planes; ++p) planes[p] = plane_unpack(v, p);
  return v.planes;
}

// Whether SIMD chunks of 8 never straddle two scales.
bool chunks_fit_groups(const ScalarView& v) { return v.groups == 1 || v.group % 8 == 0; }

}  // namespace

void e8p_decode_avx2(const E8pView& v, int64_t r0, int64_t r1, float* out) {
  const __m256 quarter = _mm256_set1_ps(0.25f);
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* codes = v.codes + r * v.blocks;
    for (int64_t g = 0; g < v.groups; ++g) {
      const __m256 scale = _mm256_set1_ps(bf16_bits_to_float(v.scales[r * v.groups + g]));
      for (int64_t b = g * v.group_blocks; b < (g + 1) * v.group_blocks; ++b)
        _mm256_storeu_ps(out + 8 * b, _mm256_mul_ps(_mm256_mul_ps(e8p_codeword4(v, codes[b]), quarter), scale));
    }
    out += 8 * v.blocks;
  }
}

// The ¼ of the table is folded into the group's scale (GEMV need not be bit-exact).
void e8p_gemv_avx2(const E8pView& v, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* codes = v.codes + r * v.blocks;
    __m256 total = _mm256_setzero_ps();
    for (int64_t g = 0; g < v.groups; ++g) {
      // two accumulators hide the FMA latency
      __m256 part0 = _mm256_setzero_ps(), part1 = _mm256_setzero_ps();
      int64_t b = g * v.group_blocks;
      const int64_t end = b + v.group_blocks;
      for (; b + 2 <= end; b += 2) {
        part0 = _mm256_fmadd_ps(e8p_codeword4(v, codes[b]), _mm256_loadu_ps(x + 8 * b), part0);
        part1 = _mm256_fmadd_ps(e8p_codeword4(v, codes[b + 1]), _mm256_loadu_ps(x + 8 * b + 8), part1);
      }
      if (b < end) part0 = _mm256_fmadd_ps(e8p_codeword4(v, codes[b]), _mm256_loadu_ps(x + 8 * b), part0);
      const __m256 scale = _mm256_set1_ps(0.25f * bf16_bits_to_float(v.scales[r * v.groups + g]));
      total = _mm256_fmadd_ps(_mm256_add_ps(part0, part1), scale, total);
    }
    y[r - r0] = sum8(total);
  }
}

void sq_decode_avx2(const ScalarView& v, int64_t r0, int64_t r1, float* out) {
  if (!chunks_fit_groups(v)) return sq_decode_ref(v, r0, r1, out);
  PlaneUnpack planes[3];
  const int n = load_planes(v, planes);
  const int entries = 1 << v.bits;
  const int64_t simd_end = v.groups == 1 ? v.cols / 8 * 8 : v.cols;
  alignas(32) float table[256];
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = v.codes + r * v.row_bytes;
    float* o = out + (r - r0) * v.cols;
    for (int64_t g = 0; g < v.groups; ++g) {
      // The codec's rounding: level × scale in double, once to float.
      const double scale = bf16_bits_to_float(v.scales[r * v.groups + g]);
      for (int k = 0; k < entries; ++k) table[k] = static_cast<float>(v.levels[k] * scale);
      for (int k = entries; k < 16; ++k) table[k] = 0;
      const Lut lut = make_lut(table, v.bits);
      const int64_t end = g * v.group + v.group < simd_end ? g * v.group + v.group : simd_end;
      for (int64_t c = g * v.group; c < end; c += 8) _mm256_storeu_ps(o + c, lookup(lut, sq_codes(row, planes, n, c)));
    }
    if (simd_end < v.cols) sq_decode_span_ref(v, r, simd_end, v.cols, o + simd_end);
  }
}

void sq_gemv_avx2(const ScalarView& v, const float* x, int64_t r0, int64_t r1, float* y) {
  if (!chunks_fit_groups(v)) return sq_gemv_ref(v, x, r0, r1, y);
  PlaneUnpack planes[3];
  const int n = load_planes(v, planes);
  alignas(32) float table[256] = {};
  for (int k = 0; k < (1 << v.bits); ++k) table[k] = v.unit_levels[k];
  const Lut lut = make_lut(table, v.bits);
  const int64_t simd_end = v.groups == 1 ? v.cols / 8 * 8 : v.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = v.codes + r * v.row_bytes;
    __m256 total = _mm256_setzero_ps();
    for (int64_t g = 0; g < v.groups; ++g) {
      __m256 part = _mm256_setzero_ps();
      const int64_t end = g * v.group + v.group < simd_end ? g * v.group + v.group : simd_end;
      for (int64_t c = g * v.group; c < end; c += 8)
        part = _mm256_fmadd_ps(lookup(lut, sq_codes(row, planes, n, c)), _mm256_loadu_ps(x + c), part);
      total = _mm256_fmadd_ps(part, _mm256_set1_ps(bf16_bits_to_float(v.scales[r * v.groups + g])), total);
    }
    float sum = sum8(total);
    if (simd_end < v.cols) sum += sq_dot_span_ref(v, r, simd_end, v.cols, x);
    y[r - r0] = sum;
  }
}

}  // namespace llvq::kernels::detail
