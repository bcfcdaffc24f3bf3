// Dequantization of ggml block formats, written from the block layouts of ggml-common.h
// (every block starts or ends with fp16 scales; quants are packed little-endian).
//   Q4_0/Q4_1/Q5_0/Q5_1/Q8_0: 32 weights per block, one scale (and a minimum for _1).
//   K-quants: 256-weight super-blocks with sub-block scales quantized against a super scale.
#include <cstring>

#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/half.hpp"

namespace llvq::gguf {
namespace {

float half_at(const uint8_t* p) { return fp16_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8))); }

void dequantize_q8_0(const uint8_t* src, uint64_t blocks, float* dst) {
  for (uint64_t b = 0; b < blocks; ++b, src += 34, dst += 32) {
    const float d = half_at(src);
    for (int j = 0; j < 32; ++j) dst[j] = d * static_cast<float>(static_cast<int8_t>(src[2 + j]));
  }
}

// Q4_0/Q4_1/Q5_0/Q5_1 share the nibble layout: byte j of qs holds weight j (low nibble)
// and weight j+16 (high nibble). Q5 adds a fifth bit per weight from the 32-bit qh
// (bit j for weight j). The _0 types are symmetric around 2^(bits-1); _1 types add m.
void dequantize_q4_q5(const uint8_t* src, uint64_t blocks, float* dst, bool with_min, bool five_bits) {
  const size_t stride = 2 + (with_min ? 2 : 0) + (five_bits ? 4 : 0) + 16;
  for (uint64_t b = 0; b < blocks; ++b, src += stride, dst += 32) {
    const float d = half_at(src);
    const float m = with_min ? half_at(src + 2) : 0.0f;
    const uint8_t* p = src + (with_min ? 4 : 2);
    uint32_t qh = 0;
    if (five_bits) {
      std::memcpy(&qh, p, 4);
      p += 4;
    }
    const int bias = with_min ? 0 : (five_bits ? 16 : 8);
    for (int j = 0; j < 16; ++j) {
      const int hi0 = five_bits ? static_cast<int>((qh >> j) & 1u) << 4 : 0;
      const int hi1 = five_bits ? static_cast<int>((qh >> (j + 16)) & 1u) << 4 : 0;
      dst[j] = static_cast<float>(((p[j] & 0x0F) | hi0) - bias) * d + m;
      dst[j + 16] = static_cast<float>(((p[j] >> 4) | hi1) - bias) * d + m;
    }
  }
}

// Q4_K and Q5_K pack eight 6-bit (scale, min) pairs into 12 bytes: pairs 0-3 in the low six
// bits of bytes 0-3 / 4-7, pairs 4-7 in the nibbles of bytes 8-11 plus the top two bits of
// bytes 0-3 / 4-7.
void scale_min_k4(int j, const uint8_t* q, int& scale, int& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K (144 bytes: d, dmin, scales[12], qs[128]) and Q5_K (176 bytes: d, dmin, scales[12],
// qh[32], qs[128]). Every 64 weights use 32 bytes of qs: low nibbles for the first 32,
// high nibbles for the next 32; Q5_K takes the fifth bit from qh, two bit planes per 64.
void dequantize_q4_q5_k(const uint8_t* src, uint64_t blocks, float* dst, bool five_bits) {
  const size_t stride = five_bits ? 176 : 144;
  for (uint64_t b = 0; b < blocks; ++b, src += stride) {
    const float d = half_at(src), dmin = half_at(src + 2);
    const uint8_t* scales = src + 4;
    const uint8_t* qh = src + 16;
    const uint8_t* qs = src + (five_bits ? 48 : 16);
    for (int group = 0; group < 4; ++group, qs += 32) {
      for (int half = 0; half < 2; ++half) {
        int sc, mn;
        scale_min_k4(2 * group + half, scales, sc, mn);
        const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(mn);
        const uint8_t plane = static_cast<uint8_t>(1u << (2 * group + half));
        for (int l = 0; l < 32; ++l) {
          int q = half ? (qs[l] >> 4) : (qs[l] & 0x0F);
          if (five_bits && (qh[l] & plane)) q += 16;
          *dst++ = dl * static_cast<float>(q) - ml;
        }
      }
    }
  }
}

// Q6_K (210 bytes: ql[128], qh[64], int8 scales[16], d). Per 128 weights: 64 bytes of ql
// (low nibbles of weights 0-31 and 32-63, high nibbles of 64-95 and 96-127), 32 bytes of qh
// (two high bits for each of the four quarters), one int8 scale per 16 weights. The product
// is (d·scale)·q, in ggml's order, so that results match it bit for bit.
void dequantize_q6_k(const uint8_t* src, uint64_t blocks, float* dst) {
  for (uint64_t b = 0; b < blocks; ++b, src += 210) {
    const uint8_t* ql = src;
    const uint8_t* qh = src + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(src + 192);
    const float d = half_at(src + 208);
    for (int n = 0; n < 2; ++n, ql += 64, qh += 32, sc += 8, dst += 128)
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        dst[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        dst[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        dst[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        dst[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
  }
}

// Q2_K (84 bytes: scales[16], qs[64], d, dmin). Each scale byte holds a 4-bit scale (low)
// and a 4-bit min (high) for 16 weights; per 128 weights 32 bytes of qs hold four 2-bit
// planes.
void dequantize_q2_k(const uint8_t* src, uint64_t blocks, float* dst) {
  for (uint64_t b = 0; b < blocks; ++b, src += 84) {
    const uint8_t* scales = src;
    const uint8_t* q = src + 16;
    const float d = half_at(src + 80), dmin = half_at(src + 82);
    int is = 0;
    for (int n = 0; n < 2; ++n, q += 32)
      for (int shift = 0; shift < 8; shift += 2)
        for (int part = 0; part < 2; ++part) {
          const uint8_t s = scales[is++];
          const float dl = d * static_cast<float>(s & 0x0F), ml = dmin * static_cast<float>(s >> 4);
          for (int l = 0; l < 16; ++l) *dst++ = dl * static_cast<float>((q[l + 16 * part] >> shift) & 3) - ml;
        }
  }
}

// Q3_K (110 bytes: hmask[32], qs[64], scales[12], d). Sixteen 6-bit scales (offset 32)
// packed as four low nibbles per 4 bytes plus 2-bit high parts in the last 4 bytes; the
// third bit of each weight is in hmask, set meaning "no -4".
void dequantize_q3_k(const uint8_t* src, uint64_t blocks, float* dst) {
  for (uint64_t b = 0; b < blocks; ++b, src += 110) {
    const uint8_t* hm = src;
    const uint8_t* q = src + 32;
    const uint8_t* packed = src + 96;
    const float d = half_at(src + 108);
    int scales[16];
    for (int i = 0; i < 16; ++i) {
      const int low = i < 8 ? (packed[i] & 0x0F) : (packed[i - 8] >> 4);
      const int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
      scales[i] = (low | (high << 4)) - 32;
    }
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < 2; ++n, q += 32)
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1))
        for (int part = 0; part < 2; ++part) {
          const float dl = d * static_cast<float>(scales[is++]);
          for (int l = 0; l < 16; ++l) {
            const int k = l + 16 * part;
            const int v = ((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4);
            *dst++ = dl * static_cast<float>(v);
          }
        }
  }
}

}  // namespace

void dequantize(TensorType type, std::span<const uint8_t> src, uint64_t n, float* dst) {
  const uint64_t bs = block_size(type);
  if (n % bs != 0 || src.size() != n / bs * block_bytes(type))
    throw InputError("dequantize: " + std::to_string(src.size()) + " bytes do not hold " + std::to_string(n) + " " +
                     to_string(type) + " elements");
  const uint8_t* p = src.data();
  const uint64_t blocks = n / bs;
  switch (type) {
    case TensorType::F32: std::memcpy(dst, p, n * 4); return;
    case TensorType::F16:
      for (uint64_t i = 0; i < n; ++i) dst[i] = half_at(p + 2 * i);
      return;
    case TensorType::BF16:
      for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_to_float(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
      return;
    case TensorType::Q8_0: dequantize_q8_0(p, blocks, dst); return;
    case TensorType::Q4_0: dequantize_q4_q5(p, blocks, dst, false, false); return;
    case TensorType::Q4_1: dequantize_q4_q5(p, blocks, dst, true, false); return;
    case TensorType::Q5_0: dequantize_q4_q5(p, blocks, dst, false, true); return;
    case TensorType::Q5_1: dequantize_q4_q5(p, blocks, dst, true, true); return;
    case TensorType::Q2_K: dequantize_q2_k(p, blocks, dst); return;
    case TensorType::Q3_K: dequantize_q3_k(p, blocks, dst); return;
    case TensorType::Q4_K: dequantize_q4_q5_k(p, blocks, dst, false); return;
    case TensorType::Q5_K: dequantize_q4_q5_k(p, blocks, dst, true); return;
    case TensorType::Q6_K: dequantize_q6_k(p, blocks, dst); return;
    default: break;
  }
  throw InputError("dequantize: ggml type " + to_string(type) +
                   " is not supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K are)");
}

}  // namespace llvq::gguf
