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
