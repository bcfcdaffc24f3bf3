// Per-block decode of E8P (src/codec/e8p.cpp) for the CUDA kernels and their host-side check.
//
// A 16-bit code is pattern (bits 0–7) | signs of coordinates 0–6 (bits 8–14) | shift (bit 15).
// The table holds the 256 absolute-value patterns, one 32-bit word each: nibble i is
// |coordinate i| in units of ½ (an odd number 1, 3, 5 or 7). 256 words = 1 KiB, small enough for
// shared memory in every thread block.
#pragma once

#include <cstdint>

#include "kernels/host_device.hpp"

namespace llvq::cuda::detail {

inline constexpr int kE8pDim = 8;
inline constexpr int kE8pPatterns = 256;

struct E8pTables {
  uint32_t pattern[kE8pPatterns];
};

// The unit-scale codeword of `code` (multiples of ¼, so exact in float) into out[0..8).
LLVQ_HD inline void e8p_decode_block(const uint32_t* pattern, uint32_t code, float* out) {
  const uint32_t p = pattern[code & 255];
  // The sign of coordinate 7 is implied: the number of minus signs has the parity that keeps
  // the coordinate sum even, i.e. (Σ|a_i| / 2) mod 2 with |a_i| in units of ½.
  uint32_t magnitude_sum = 0;
  for (int i = 0; i < kE8pDim; ++i) magnitude_sum += (p >> (4 * i)) & 15;
  uint32_t signs = (code >> 8) & 127;
  uint32_t first7 = signs;
  first7 ^= first7 >> 4;
  first7 ^= first7 >> 2;
  first7 ^= first7 >> 1;
  if ((first7 & 1) != ((magnitude_sum >> 1) & 1)) signs |= 128;
  const float shift = (code >> 15) & 1 ? -0.25f : 0.25f;
  for (int i = 0; i < kE8pDim; ++i) {
    const float magnitude = 0.5f * static_cast<float>((p >> (4 * i)) & 15);
    out[i] = ((signs >> i) & 1 ? -magnitude : magnitude) + shift;
  }
}

}  // namespace llvq::cuda::detail
