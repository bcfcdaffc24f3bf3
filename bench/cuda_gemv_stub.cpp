// `llvq bench gemv --device cuda` in builds without the CUDA toolkit (cmake/cuda.cmake): it
// fails as the library's CUDA entry points do there (src/kernels/cuda_stub.cpp).
#ifndef LLVQ_HAVE_CUDA
#include "llvq/error.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace llvq::cuda {

std::vector<kernels::GemvBenchRow> bench_gemv(const kernels::GemvBenchConfig&) {
  throw InputError("this llvq was built without CUDA (nvcc was not found at configure time, or LLVQ_CUDA / "
                   "LLVQ_SANITIZE turned it off)");
}

}  // namespace llvq::cuda
#endif
