// `llvq bench gemv --device cuda` in builds without the CUDA toolkit (cmake/cuda.cmake): it
// fails as the library's CUDA entry points do there (src/kernels/cuda_stub.cpp).
#ifndef LLVQ_HAVE_CUDA
#include "llvq/cuda_kernels.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace llvq::cuda {

kernels::GemvBenchReport bench_gemv(const kernels::GemvBenchConfig&) {
  require_device();  // throws the library's "built without CUDA" error
  return {};
}

}  // namespace llvq::cuda
#endif
