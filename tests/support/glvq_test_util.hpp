// Shared by the GLVQ pipeline tests (library and CLI).
#pragma once

#include <algorithm>
#include <cstdint>

namespace llvq::test {

// Exact bits of a GLVQ tensor: every coordinate of the padded width at the average rate
// (salience moves bits between full groups without changing the total) plus, per group,
// G in fp16, μ and s in fp16 (with companding) and one byte of bit width.
inline uint64_t glvq_payload_bits(int64_t rows, int64_t cols, int dim, int group, int bits, bool companding) {
  const int64_t padded = (cols + dim - 1) / dim * dim;
  const int64_t width = std::min<int64_t>(group, padded);
  const int64_t groups = (padded + width - 1) / width;
  return static_cast<uint64_t>(rows * padded * bits + groups * (16 * dim * dim + 8 + (companding ? 32 : 0)));
}

}  // namespace llvq::test
