// Scalar reference kernels of the table family. They do the SIMD versions' arithmetic one
// lane at a time, in the same order for decode (so decode is bit-exact across ISA levels and
// with Codec::decode_rows).
#include <cstring>

#include "kernels/table_simd.hpp"

namespace llvq::kernels::detail {

float bf16_bits_to_float(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

namespace {

// Unit-scale codeword of one E8P code; exact (at most 5 significant bits).
void e8p_unit_codeword(const E8pView& v, uint16_t code, float* y) {
  const int8_t* t = v.codewords + 8 * code;
  for (int i = 0; i < 8; ++i) y[i] = static_cast<float>(t[i]) * 0.25f;
}

}  // namespace

// y × scale has at most 5 + 8 significant bits, so the float product equals the codec's
// double product rounded to float.
void e8p_decode_ref(const E8pView& v, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* codes = v.codes + r * v.blocks;
    for (int64_t b = 0; b < v.blocks; ++b) {
      const float scale = bf16_bits_to_float(v.scales[r * v.groups + b / v.group_blocks]);
      float y[8];
      e8p_unit_codeword(v, codes[b], y);
      for (int i = 0; i < 8; ++i) out[8 * b + i] = y[i] * scale;
    }
    out += 8 * v.blocks;
  }
}

void e8p_gemv_ref(const E8pView& v, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* codes = v.codes + r * v.blocks;
    float total = 0;
    for (int64_t g = 0; g < v.groups; ++g) {
      float part = 0;
      for (int64_t b = g * v.group_blocks; b < (g + 1) * v.group_blocks; ++b) {
        float w[8];
        e8p_unit_codeword(v, codes[b], w);
        for (int i = 0; i < 8; ++i) part += w[i] * x[8 * b + i];
      }
      total += part * bf16_bits_to_float(v.scales[r * v.groups + g]);
    }
    y[r - r0] = total;
  }
}

uint32_t sq_code_at(const ScalarView& v, int64_t r, int64_t c) {
  const uint8_t* row = v.codes + r * v.row_bytes;
  uint32_t code = 0;
  for (int p = 0; p < v.planes; ++p) {
    const int k = v.plane_bits[p];
    const int64_t bit = c * k;  // k divides 8: a field never straddles a byte
    const uint32_t field = (row[v.plane_offset[p] + bit / 8] >> (bit % 8)) & ((1u << k) - 1);
    code |= field << v.plane_shift[p];
  }
  return code;
}

// The codec's own arithmetic: level (double) × scale, rounded once to float.
void sq_decode_span_ref(const ScalarView& v, int64_t r, int64_t c0, int64_t c1, float* out) {
  for (int64_t c = c0; c < c1; ++c) {
    const double scale = bf16_bits_to_float(v.scales[r * v.groups + c / v.group]);
    out[c - c0] = static_cast<float>(v.levels[sq_code_at(v, r, c)] * scale);
  }
}

float sq_dot_span_ref(const ScalarView& v, int64_t r, int64_t c0, int64_t c1, const float* x) {
  float sum = 0;
  for (int64_t c = c0; c < c1; ++c)
    sum += v.unit_levels[sq_code_at(v, r, c)] * bf16_bits_to_float(v.scales[r * v.groups + c / v.group]) * x[c];
  return sum;
}

void sq_decode_ref(const ScalarView& v, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) sq_decode_span_ref(v, r, 0, v.cols, out + (r - r0) * v.cols);
}

void sq_gemv_ref(const ScalarView& v, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) y[r - r0] = sq_dot_span_ref(v, r, 0, v.cols, x);
}

}  // namespace llvq::kernels::detail
