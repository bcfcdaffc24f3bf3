// CUDA kernels for the same packed layouts as the CPU kernels (llvq/kernels.hpp): decode to
// half precision and fused decode + GEMV. Compiled when the CUDA toolkit is found at build
// time (LLVQ_HAVE_CUDA); otherwise every entry point reports that clearly.
#pragma once

#include <string>
#include <vector>

#include "llvq/kernels.hpp"

namespace llvq::cuda {

bool built();             // compiled with CUDA support
bool device_available();  // built() and a usable GPU is present
std::string device_name();  // "" when none

// `llvq bench gemv --device cuda`: cuBLAS fp32 and fp16 GEMV, then decode and fused GEMV of
// each codec, in one run. InputError when !device_available().
std::vector<kernels::GemvBenchRow> bench_gemv(const kernels::GemvBenchConfig& config);

}  // namespace llvq::cuda
