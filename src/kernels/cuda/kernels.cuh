// The CUDA kernels, written once over a codec family policy F:
//   F::kDim                weights per block
//   F::Code                the block code type in the layout (layout.hpp)
//   F::Tables              POD decode tables (per codec)
//   F::Context             what a block decode reads: the tables and the matrix's own side
//                          data (the Leech escape list)
//   F::prepare(global, extra)   the Context (called by every thread before any leaves: it may
//                          stage tables in shared memory)
//   F::decode(c, code, scale, out[kDim])   the scaled block in the family's slot order, as
//                          the host decode computes it; F::natural(c, i) is slot i's column
//   F::dot(c, code, scale, x[kDim])        ⟨scaled block, x⟩, x in slot order
// The per-block functions are the LLVQ_HD ones the host tests check (e8p_block.hpp,
// octet_block.hpp).
//
// Thread mapping (docs/kernels-cuda.md): the fused GEMV gives each row to one warp, whose
// lanes take blocks lane, lane + 32, ...: the warp reads 32 consecutive block codes at a time
// (coalesced), each lane decodes its block in registers and multiplies it with the matching
// slice of x (read through the read-only cache; every row reuses it), and a shuffle reduction
// sums the lanes. The Leech family's slot order is the trio order of its octets, so its x is
// permuted once per call by permute_x_kernel. The decode kernel gives each thread one block,
// puts it in natural order through shared memory and writes it as 16-byte stores of halves,
// consecutive threads to consecutive addresses.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/cuda/e8p_block.hpp"
#include "kernels/cuda/octet_block.hpp"

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
  using Context = const Tables*;
  __device__ static Context prepare(const Tables* global, const void*) {
    __shared__ Tables shared;
    load_tables(global, shared);
    __syncthreads();
    return &shared;
  }
  __device__ static int natural(Context, int i) { return i; }
  __device__ static void decode(Context t, Code code, float scale, float* out) {
    e8p_decode_block(t->pattern, code, out);
#pragma unroll
    for (int i = 0; i < kDim; ++i) out[i] *= scale;
  }
  __device__ static float dot(Context t, Code code, float scale, const float* x) {
    float w[kDim];
    e8p_decode_block(t->pattern, code, w);
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < kDim; ++i) s = fmaf(w[i], x[i], s);
    return scale * s;
  }
};

// Leech (llvq-sg, llvq-ss at 2 bpw, l24sq): the octet word. The pattern tables (6.75 MiB) stay in
// global memory, where L2 holds them whole and L1 the entries a matrix uses most; the escape
// list is the matrix's.
struct OctetFamily {
  static constexpr int kDim = octet::kDim;
  using Code = unsigned long long;
  using Tables = OctetBlockTables;
  struct Context {
    const Tables* tables;
    const octet::Escape* escapes;
  };
  __device__ static Context prepare(const Tables* global, const void* extra) {
    return {global, static_cast<const octet::Escape*>(extra)};
  }
  __device__ static int natural(Context c, int i) { return c.tables->trio[i]; }
  __device__ static void decode(Context c, Code code, float scale, float* out) {
    octet_decode_trio(*c.tables, c.escapes, code, scale, out);
  }
  __device__ static float dot(Context c, Code code, float scale, const float* x) {
    return octet_dot_trio(*c.tables, c.escapes, code, scale, x);
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
    fused_gemv_kernel(const typename F::Tables* tables_global, const void* extra, const uint8_t* __restrict__ codes,
                      const float* __restrict__ scales, const X* __restrict__ x, float* __restrict__ y,
                      KernelShape s) {
  const typename F::Context t = F::prepare(tables_global, extra);  // before any warp leaves
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
    decode_half_kernel(const typename F::Tables* tables_global, const void* extra, const uint8_t* __restrict__ codes,
                       const float* __restrict__ scales, __half* __restrict__ out, KernelShape s) {
  static_assert(F::kDim % 8 == 0, "blocks are written as 16-byte groups of 8 halves");
  const typename F::Context t = F::prepare(tables_global, extra);
  // Each thread's block in natural column order: slot i goes to column F::natural(t, i).
  __shared__ float natural[kDecodeThreads * F::kDim];
  float* mine = natural + threadIdx.x * F::kDim;
  const typename F::Code* block_codes = reinterpret_cast<const typename F::Code*>(codes);
  const int64_t total = s.rows * s.blocks_per_row;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < total; b += stride) {
    const int64_t row = b / s.blocks_per_row;
    const int j = static_cast<int>(b - row * s.blocks_per_row);
    float w[F::kDim];
    F::decode(t, __ldg(block_codes + b), __ldg(scales + row * s.groups_per_row + j / s.blocks_per_group), w);
#pragma unroll
    for (int i = 0; i < F::kDim; ++i) mine[F::natural(t, i)] = w[i];
    // The host decode's float values, rounded once to nearest even.
    __align__(16) __half2 h[F::kDim / 2];
#pragma unroll
    for (int i = 0; i < F::kDim / 2; ++i) h[i] = __floats2half2_rn(mine[2 * i], mine[2 * i + 1]);
    uint4* dst = reinterpret_cast<uint4*>(out + row * s.cols + static_cast<int64_t>(j) * F::kDim);
#pragma unroll
    for (int k = 0; k < F::kDim / 8; ++k) dst[k] = reinterpret_cast<const uint4*>(h)[k];
  }
}

// out[b·kDim + s] = x[b·kDim + natural(s)] for every block b: x in the family's slot order, as
// floats (the octet word's trio order; x may be fp16).
template <class X>
__global__ void permute_x_kernel(const OctetBlockTables* tables, const X* __restrict__ x, float* __restrict__ out,
                                 int64_t cols) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= cols) return;
  const int64_t block = i / octet::kDim;
  const int slot = static_cast<int>(i - block * octet::kDim);
  out[i] = static_cast<float>(x[block * octet::kDim + tables->trio[slot]]);
}

}  // namespace llvq::cuda::detail
