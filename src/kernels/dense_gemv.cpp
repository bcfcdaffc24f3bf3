// Dense fp32 / fp16 GEMV baselines (plain loops until the tuned versions land).
#include <omp.h>

#include "llvq/half.hpp"
#include "llvq/kernels.hpp"

namespace llvq::kernels {

void gemv_f32(const float* w, int64_t rows, int64_t cols, const float* x, float* y, int threads) {
#pragma omp parallel for num_threads(threads > 0 ? threads : omp_get_max_threads()) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float s = 0;
    for (int64_t c = 0; c < cols; ++c) s += w[r * cols + c] * x[c];
    y[r] = s;
  }
}

void gemv_f16(const uint16_t* w, int64_t rows, int64_t cols, const float* x, float* y, int threads) {
#pragma omp parallel for num_threads(threads > 0 ? threads : omp_get_max_threads()) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float s = 0;
    for (int64_t c = 0; c < cols; ++c) s += fp16_to_float(w[r * cols + c]) * x[c];
    y[r] = s;
  }
}

}  // namespace llvq::kernels
