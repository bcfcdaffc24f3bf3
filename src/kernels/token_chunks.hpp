// How the batched SIMD kernels split `tokens` inputs: chunks of 8, 4, 2 or 1 (the largest that
// fits), each a compile-time count so that a chunk's accumulators stay in registers. Included by
// the *_avx2.cpp / *_avx512.cpp kernel files; internal linkage, as simd_sum.hpp.
#pragma once

#include <cstdint>
#include <type_traits>

namespace llvq::kernels {
namespace {

// Calls f(std::integral_constant<int, n>{}, t) for consecutive chunks [t, t + n) of the tokens.
template <class F>
inline void for_token_chunks(int64_t tokens, F&& f) {
  for (int64_t t = 0; t < tokens;) {
    const int64_t left = tokens - t;
    if (left >= 8) {
      f(std::integral_constant<int, 8>{}, t), t += 8;
    } else if (left >= 4) {
      f(std::integral_constant<int, 4>{}, t), t += 4;
    } else if (left >= 2) {
      f(std::integral_constant<int, 2>{}, t), t += 2;
    } else {
      f(std::integral_constant<int, 1>{}, t), t += 1;
    }
  }
}

}  // namespace
}  // namespace llvq::kernels
