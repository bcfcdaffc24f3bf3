// Dense fp32 / fp16 GEMV baselines: the yardstick of `llvq bench gemv`, so they are tuned
// (4 rows per pass share each load of x, several FMA chains, F16C conversion) and should run
// near memory bandwidth. Rows are split into one contiguous range per OpenMP thread.
#include <omp.h>

#include <algorithm>

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

}  // namespace llvq::kernels
