// Shared checks of the CPU kernels (llvq/kernels.hpp) against their references.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "llvq/kernels.hpp"

namespace llvq::test {

// Every ISA level this CPU runs, Scalar first.
inline std::vector<kernels::Isa> supported_isas() {
  std::vector<kernels::Isa> out;
  for (kernels::Isa isa : {kernels::Isa::Scalar, kernels::Isa::Avx2, kernels::Isa::Avx512})
    if (kernels::cpu_supports(isa)) out.push_back(isa);
  return out;
}

// y = W·x in double from the reference decode: the oracle for every GEMV. The tolerance is
// float rounding of a sum of |W||x| terms.
inline void expect_gemv_close(const std::vector<float>& got, const std::vector<float>& w, const std::vector<float>& x,
                              int64_t rows, int64_t cols, const std::string& what) {
  for (int64_t r = 0; r < rows; ++r) {
    double exact = 0, magnitude = 0;
    for (int64_t c = 0; c < cols; ++c) {
      exact += static_cast<double>(w[r * cols + c]) * x[c];
      magnitude += std::abs(static_cast<double>(w[r * cols + c]) * x[c]);
    }
    EXPECT_NEAR(got[r], exact, 1e-5 * magnitude + 1e-30) << what << " row " << r;
  }
}

}  // namespace llvq::test
