// Dense fp32 / fp16 GEMV baselines: the yardstick of `llvq bench gemv`, so they are tuned
// (4 rows per pass share each load of x, several FMA chains, F16C conversion) and should run
// near memory bandwidth. Rows are split into one contiguous range per OpenMP thread.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/kernels_impl.hpp"
#include "kernels/table_simd.hpp"
#include "llvq/error.hpp"
#include "llvq/half.hpp"
#include "llvq/kernels.hpp"

namespace llvq::kernels {

namespace detail {

void dense_f32_ref(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    float s = 0;
    for (int64_t c = 0; c < cols; ++c) s += w[r * cols + c] * x[c];
    y[r - r0] = s;
  }
}

void dense_f16_ref(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    float s = 0;
    for (int64_t c = 0; c < cols; ++c) s += fp16_to_float(w[r * cols + c]) * x[c];
    y[r - r0] = s;
  }
}

void dense_q8_0_ref(const uint8_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  const int64_t blocks = cols / kQ8_0Block;
  for (int64_t r = r0; r < r1; ++r) {
    float s = 0;
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t* block = w + (r * blocks + b) * kQ8_0Bytes;
      const float d = fp16_to_float(static_cast<uint16_t>(block[0] | block[1] << 8));
      float dot = 0;
      for (int64_t i = 0; i < kQ8_0Block; ++i)
        dot += static_cast<float>(static_cast<int8_t>(block[2 + i])) * x[b * kQ8_0Block + i];
      s += d * dot;
    }
    y[r - r0] = s;
  }
}

void dense_f32_tokens_ref(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t tokens, int64_t r0,
                          int64_t r1, float* y, int64_t ldy) {
  for (int64_t t = 0; t < tokens; ++t) dense_f32_ref(w, cols, x + t * ldx, r0, r1, y + t * ldy);
}

}  // namespace detail

namespace {

template <class T, class Kernel>
void over_rows(const T* w, int64_t rows, int64_t cols, const float* x, float* y, int threads, Kernel kernel) {
  const int64_t want = threads > 0 ? threads : omp_get_max_threads();
  const int t = static_cast<int>(std::clamp<int64_t>(std::min(want, rows / 4), 1, want));
#pragma omp parallel for num_threads(t) schedule(static)
  for (int k = 0; k < t; ++k) {
    const int64_t r0 = rows * k / t, r1 = rows * (k + 1) / t;
    if (r1 > r0) kernel(w, cols, x, r0, r1, y + r0);
  }
}

}  // namespace

void gemv_f32(const float* w, int64_t rows, int64_t cols, const float* x, float* y, int threads) {
  over_rows(w, rows, cols, x, y, threads,
            detail::for_isa(active_isa(), detail::dense_f32_ref, detail::dense_f32_avx2, detail::dense_f32_avx512));
}

void gemm_f32(const float* w, int64_t rows, int64_t cols, const float* x, int64_t ldx, int64_t tokens, float* y,
              int threads) {
  if (tokens < 0 || ldx < cols) throw InputError("gemm_f32: bad token count or input stride");
  const auto rows_of = detail::for_isa(active_isa(), detail::dense_f32_tokens_ref, detail::dense_f32_tokens_avx2,
                                       detail::dense_f32_tokens_avx512);
  over_rows(w, rows, cols, x, y, threads,
            [&](const float* w_, int64_t cols_, const float* x_, int64_t r0, int64_t r1, float* y_) {
              rows_of(w_, cols_, x_, ldx, tokens, r0, r1, y_, rows);
            });
}

void gemv_f16(const uint16_t* w, int64_t rows, int64_t cols, const float* x, float* y, int threads) {
  over_rows(w, rows, cols, x, y, threads,
            detail::for_isa(active_isa(), detail::dense_f16_ref, detail::dense_f16_avx2, detail::dense_f16_avx512));
}

std::vector<uint8_t> quantize_q8_0(const float* values, size_t n) {
  constexpr size_t kBlock = detail::kQ8_0Block;
  if (n % kBlock != 0)
    throw InputError("Q8_0: " + std::to_string(n) + " values is not a whole number of 32-value blocks");
  std::vector<uint8_t> data;
  data.reserve(n / kBlock * detail::kQ8_0Bytes);
  for (size_t b = 0; b < n; b += kBlock) {
    const float* x = values + b;
    float amax = 0;
    for (size_t j = 0; j < kBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t h = float_to_fp16(d);
    data.push_back(static_cast<uint8_t>(h & 0xFF));
    data.push_back(static_cast<uint8_t>(h >> 8));
    for (size_t j = 0; j < kBlock; ++j)
      data.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::round(x[j] * id))));
  }
  return data;
}

void gemv_q8_0(const uint8_t* blocks, int64_t rows, int64_t cols, const float* x, float* y, int threads) {
  if (rows < 0 || cols < 0 || cols % detail::kQ8_0Block != 0)
    throw InputError("gemv_q8_0: " + std::to_string(cols) + " columns is not a multiple of 32");
  const int64_t row_bytes = cols / detail::kQ8_0Block * detail::kQ8_0Bytes;
  const auto rows_of =
      detail::for_isa(active_isa(), detail::dense_q8_0_ref, detail::dense_q8_0_avx2, detail::dense_q8_0_avx512);
  over_rows(blocks, rows, row_bytes, x, y, threads,
            [&](const uint8_t* w, int64_t, const float* x_, int64_t r0, int64_t r1, float* y_) {
              rows_of(w, cols, x_, r0, r1, y_);
            });
}

}  // namespace llvq::kernels
