// Marks functions compiled for both the CPU and the GPU, so one per-block decode is shared by
// the CUDA kernels and the host-side checks that run on every machine (no GPU needed).
#pragma once

#ifndef LLVQ_HD
#ifdef __CUDACC__
#define LLVQ_HD __host__ __device__
#else
#define LLVQ_HD
#endif
#endif

// Full unrolling of a constant-trip loop in device code, so that the arrays it indexes stay in
// registers (an array indexed at run time lives in local memory); nothing on the host.
#ifndef LLVQ_UNROLL
#ifdef __CUDA_ARCH__
#define LLVQ_UNROLL _Pragma("unroll")
#else
#define LLVQ_UNROLL
#endif
#endif
