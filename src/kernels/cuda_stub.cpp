// Entry points of llvq/cuda_kernels.hpp for builds without the CUDA toolkit.
#ifndef LLVQ_HAVE_CUDA
#include "llvq/cuda_kernels.hpp"
#include "llvq/error.hpp"

namespace llvq::cuda {
bool built() { return false; }
bool device_available() { return false; }
std::string device_name() { return ""; }
std::vector<kernels::GemvBenchRow> bench_gemv(const kernels::GemvBenchConfig&) {
  throw InputError("this llvq was built without CUDA (nvcc was not found at configure time)");
}
}  // namespace llvq::cuda
#endif
