// The CUDA kernels, written once over a codec family policy F:
//   F::kDim      weights per block
//   F::kWords    16-bit words per block code
//   F::Tables    POD decode tables (copied into shared memory by every thread block)
//   F::decode(tables, code words, float out[kDim])   the unit-scale block (host-tested twin)
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

struct E8pFamily {
  static constexpr int kDim = kE8pDim;
  static constexpr int kWords = 1;
  using Tables = E8pTables;
  __device__ static void decode(const Tables& t, const uint16_t* code, float* out) {
    e8p_decode_block(t.pattern, code[0], out);
  }
};

template <class Tables>
__device__ void load_tables(const Tables* global, Tables& shared) {
  static_assert(sizeof(Tables) % sizeof(uint32_t) == 0, "tables are copied in 32-bit words");
  const uint32_t* src = reinterpret_cast<const uint32_t*>(global);
  uint32_t* dst = reinterpret_cast<uint32_t*>(&shared);
  for (int i = threadIdx.x; i < static_cast<int>(sizeof(Tables) / sizeof(uint32_t)); i += blockDim.x)
    dst[i] = __ldg(src + i);
}

// x[0..n) as floats; n is a multiple of 8 and x is 16-byte aligned for both element types
// (block offsets are multiples of 8 weights).
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

template <class F>
__device__ void load_code(const uint16_t* codes, int64_t block, uint16_t* code) {
#pragma unroll
  for (int w = 0; w < F::kWords; ++w) code[w] = __ldg(codes + block * F::kWords + w);
}

template <class F, class X>
__global__ void __launch_bounds__(kWarpsPerCta* kWarp)
    fused_gemv_kernel(const typename F::Tables* tables_global, const uint16_t* __restrict__ codes,
                      const float* __restrict__ scales, const X* __restrict__ x, float* __restrict__ y,
                      KernelShape s) {
  __shared__ typename F::Tables tables;
  load_tables(tables_global, tables);
  __syncthreads();  // before any warp leaves: a tail thread block may hold fewer rows

  const int lane = threadIdx.x % kWarp;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerCta + threadIdx.x / kWarp;
  if (row >= s.rows) return;
  const uint16_t* row_codes = codes + row * s.blocks_per_row * F::kWords;
  const float* row_scales = scales + row * s.groups_per_row;
  const bool one_scale = s.groups_per_row == 1;  // the usual case: scale once at the end

  float acc = 0.f;
  for (int j = lane; j < s.blocks_per_row; j += kWarp) {
    uint16_t code[F::kWords];
    load_code<F>(row_codes, j, code);
    float w[F::kDim], xv[F::kDim];
    F::decode(tables, code, w);
    load_x<F::kDim>(x + static_cast<int64_t>(j) * F::kDim, xv);
    float dot = 0.f;
#pragma unroll
    for (int i = 0; i < F::kDim; ++i) dot = fmaf(w[i], xv[i], dot);
    acc = one_scale ? acc + dot : fmaf(dot, __ldg(row_scales + j / s.blocks_per_group), acc);
  }
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, offset);
  if (lane == 0) y[row] = one_scale ? acc * __ldg(row_scales) : acc;
}

template <class F>
__global__ void __launch_bounds__(kDecodeThreads)
    decode_half_kernel(const typename F::Tables* tables_global, const uint16_t* __restrict__ codes,
                       const float* __restrict__ scales, __half* __restrict__ out, KernelShape s) {
  static_assert(F::kDim % 8 == 0, "blocks are written as 16-byte groups of 8 halves");
  __shared__ typename F::Tables tables;
  load_tables(tables_global, tables);
  __syncthreads();

  const int64_t total = s.rows * s.blocks_per_row;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < total; b += stride) {
    const int64_t row = b / s.blocks_per_row;
    const int j = static_cast<int>(b - row * s.blocks_per_row);
    uint16_t code[F::kWords];
    load_code<F>(codes, b, code);
    float w[F::kDim];
    F::decode(tables, code, w);
    const float scale = __ldg(scales + row * s.groups_per_row + j / s.blocks_per_group);
    // The same float product as the host decode, then one round to nearest even.
    __align__(16) __half2 h[F::kDim / 2];
#pragma unroll
    for (int i = 0; i < F::kDim / 2; ++i) h[i] = __floats2half2_rn(w[2 * i] * scale, w[2 * i + 1] * scale);
    uint4* dst = reinterpret_cast<uint4*>(out + row * s.cols + static_cast<int64_t>(j) * F::kDim);
#pragma unroll
    for (int k = 0; k < F::kDim / 8; ++k) dst[k] = reinterpret_cast<const uint4*>(h)[k];
  }
}

}  // namespace llvq::cuda::detail
