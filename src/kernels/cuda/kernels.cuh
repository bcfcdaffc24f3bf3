// The CUDA kernels, written once over a codec family policy F:
//   F::kDim                weights per block
//   F::Code                the block code type in the layout (layout.hpp)
//   F::Tables              POD decode tables
//   F::prepare(global)     where the kernel reads the tables from (called by every thread
//                          before any leaves: it may stage them in shared memory)
//   F::decode(t, code, scale, out[kDim])   the scaled block, as the host decode computes it
//   F::dot(t, code, scale, x[kDim])        ⟨scaled block, x⟩
// The per-block functions are the LLVQ_HD ones the host tests check (e8p_block.hpp,
// kernels/leech_block.hpp).
//
// Thread mapping (docs/kernels-cuda.md): the fused GEMV gives each row to one warp, whose
// lanes take blocks lane, lane + 32, ...: the warp reads 32 consecutive block codes at a time
// (coalesced), each lane decodes its block in registers and multiplies it with the matching
// slice of x (read through the read-only cache; every row reuses it), and a shuffle reduction
// sums the lanes. The decode kernel gives each thread one block and writes it as 16-byte
// stores of halves, consecutive threads to consecutive addresses.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/cuda/e8p_block.hpp"
#include "kernels/leech_block.hpp"

namespace llvq::cuda::detail {

inline constexpr int kWarp = 32;
inline constexpr int kWarpsPerCta = 4;  // rows per thread block of the fused GEMV
inline constexpr int kDecodeThreads = 256;

// Shape of a layout (layout.hpp) as the kernels see it; in-row indices fit in 32 bits.
struct KernelShape {
  int64_t rows;
  int64_t cols;
  int blocks_per_row;
  int blocks_per_group;
  int groups_per_row;
};

template <class Tables>
__device__ void load_tables(const Tables* global, Tables& shared) {
  static_assert(sizeof(Tables) % sizeof(uint32_t) == 0, "tables are copied in 32-bit words");
  const uint32_t* src = reinterpret_cast<const uint32_t*>(global);
  uint32_t* dst = reinterpret_cast<uint32_t*>(&shared);
  for (int i = threadIdx.x; i < static_cast<int>(sizeof(Tables) / sizeof(uint32_t)); i += blockDim.x)
    dst[i] = __ldg(src + i);
}

// E8P: the 1 KiB pattern table lives in shared memory (lanes index it at random).
struct E8pFamily {
  static constexpr int kDim = kE8pDim;
  using Code = unsigned short;
  using Tables = E8pTables;
  __device__ static const Tables* prepare(const Tables* global) {
    __shared__ Tables shared;
    load_tables(global, shared);
    __syncthreads();
    return &shared;
  }
  __device__ static void decode(const Tables* t, Code code, float scale, float* out) {
    e8p_decode_block(t->pattern, code, out);
#pragma unroll
    for (int i = 0; i < kDim; ++i) out[i] *= scale;
  }
  __device__ static float dot(const Tables* t, Code code, float scale, const float* x) {
    float w[kDim];
    e8p_decode_block(t->pattern, code, w);
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < kDim; ++i) s = fmaf(w[i], x[i], s);
    return scale * s;
  }
};

// Leech (llvq-sg, llvq-ss at 2 bpw, l24sq): the tables (a few hundred kB) stay in global memory;
// a block touches one class entry and a few small rows of them, which the caches hold.
struct LeechFamily {
  static constexpr int kDim = kernels::leech::kDim;
  using Code = unsigned long long;
  using Tables = kernels::leech::BlockTables;
  __device__ static const Tables* prepare(const Tables* global) { return global; }
  __device__ static void decode(const Tables* t, Code code, float scale, float* out) {
    kernels::leech::decode_block(*t, code, scale, out);
  }
  __device__ static float dot(const Tables* t, Code code, float scale, const float* x) {
    return kernels::leech::dot_block(*t, code, scale, x);
  }
};

// x[0..n) as floats; n is a multiple of 8 and block offsets keep float4 / half2 loads aligned.
template <int n>
__device__ void load_x(const float* x, float* out) {
  static_assert(n % 4 == 0);
#pragma unroll
  for (int k = 0; k < n / 4; ++k) {
    const float4 v = __ldg(reinterpret_cast<const float4*>(x) + k);
    out[4 * k] = v.x, out[4 * k + 1] = v.y, out[4 * k + 2] = v.z, out[4 * k + 3] = v.w;
  }
}
template <int n>
__device__ void load_x(const __half* x, float* out) {
  static_assert(n % 2 == 0);
#pragma unroll
  for (int k = 0; k < n / 2; ++k) {
    const float2 v = __half22float2(__ldg(reinterpret_cast<const __half2*>(x) + k));
    out[2 * k] = v.x, out[2 * k + 1] = v.y;
  }
}

template <class F, class X>
__global__ void __launch_bounds__(kWarpsPerCta* kWarp)
    fused_gemv_kernel(const typename F::Tables* tables_global, const uint8_t* __restrict__ codes,
                      const float* __restrict__ scales, const X* __restrict__ x, float* __restrict__ y,
                      KernelShape s) {
  const typename F::Tables* t = F::prepare(tables_global);  // before any warp leaves
  const int lane = threadIdx.x % kWarp;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerCta + threadIdx.x / kWarp;
  if (row >= s.rows) return;
  const typename F::Code* row_codes = reinterpret_cast<const typename F::Code*>(codes) + row * s.blocks_per_row;
  const float* row_scales = scales + row * s.groups_per_row;
  const bool one_scale = s.groups_per_row == 1;  // the usual case: no division per block
  const float row_scale = __ldg(row_scales);

  float acc = 0.f;
  for (int j = lane; j < s.blocks_per_row; j += kWarp) {
    const typename F::Code code = __ldg(row_codes + j);
    float xv[F::kDim];
    load_x<F::kDim>(x + static_cast<int64_t>(j) * F::kDim, xv);
    const float scale = one_scale ? row_scale : __ldg(row_scales + j / s.blocks_per_group);
    acc += F::dot(t, code, scale, xv);
  }
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, offset);
  if (lane == 0) y[row] = acc;
}

template <class F>
__global__ void __launch_bounds__(kDecodeThreads)
    decode_half_kernel(const typename F::Tables* tables_global, const uint8_t* __restrict__ codes,
                       const float* __restrict__ scales, __half* __restrict__ out, KernelShape s) {
  static_assert(F::kDim % 8 == 0, "blocks are written as 16-byte groups of 8 halves");
  const typename F::Tables* t = F::prepare(tables_global);
  const typename F::Code* block_codes = reinterpret_cast<const typename F::Code*>(codes);
  const int64_t total = s.rows * s.blocks_per_row;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < total; b += stride) {
    const int64_t row = b / s.blocks_per_row;
    const int j = static_cast<int>(b - row * s.blocks_per_row);
    float w[F::kDim];
    F::decode(t, __ldg(block_codes + b), __ldg(scales + row * s.groups_per_row + j / s.blocks_per_group), w);
    // The host decode's float values, rounded once to nearest even.
    __align__(16) __half2 h[F::kDim / 2];
#pragma unroll
    for (int i = 0; i < F::kDim / 2; ++i) h[i] = __floats2half2_rn(w[2 * i], w[2 * i + 1]);
    uint4* dst = reinterpret_cast<uint4*>(out + row * s.cols + static_cast<int64_t>(j) * F::kDim);
#pragma unroll
    for (int k = 0; k < F::kDim / 8; ++k) dst[k] = reinterpret_cast<const uint4*>(h)[k];
  }
}

}  // namespace llvq::cuda::detail
