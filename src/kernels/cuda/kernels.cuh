// The CUDA kernels, written once over a codec family policy F:
//   F::kDim                weights per block
//   F::Code                the block code type in the layout (layout.hpp)
//   F::Tables              POD decode tables (per codec), copied to the device byte for byte
//   F::Params              the kernels' parameter: where the tables are (and for Leech the
//                          matrix's escape list and the gain width)
//   F::Context             what a block decode reads
//   F::prepare(params)     the Context (called by every thread before any leaves: it may
//                          stage tables in shared memory)
//   F::decode(c, code, scale, out[kDim])   the scaled block in the family's slot order, as
//                          the host decode computes it; F::natural(c, i) is slot i's column
//   F::dot(c, code, scale, x[kDim])        ⟨scaled block, x⟩, x in slot order (the
//                          lane-per-block fused GEMV: E8P's, and a Leech variant)
// The per-block functions are the LLVQ_HD ones the host tests check (e8p_block.hpp,
// octet_block.hpp).
//
// Thread mapping (docs/kernels-cuda.md): the fused GEMVs give each row to one warp. E8P's lanes
// take blocks lane, lane + 32, ...: the warp reads 32 consecutive block codes at a time
// (coalesced), each lane decodes its block in registers and multiplies it with the matching
// slice of x (read through the read-only cache; every row reuses it). The Leech GEMV gives each
// octet to one lane (10 blocks per warp step, lane 3b + k takes octet k of block b), so the
// warp's reads of x are contiguous and a lane's table reads are one entry; the three lanes of
// a block exchange their norms by shuffles. x is permuted into the blocks' trio order once per
// call (permute_x_kernel). A shuffle reduction sums the lanes. The decode kernel gives each
// thread one block, puts it in natural order through shared memory and writes it as 16-byte
// stores of halves, consecutive threads to consecutive addresses.
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
  using Params = const Tables*;
  using Context = const Tables*;
  __device__ static Context prepare(Params global) {
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

// Leech (llvq-sg, llvq-ss at 2 bpw, l24sq): the octet word. The pattern tables (12 MiB) stay in
// global memory, where L2 holds them whole and L1 the entries a matrix uses most; the escape
// list is the matrix's.
struct OctetFamily {
  static constexpr int kDim = octet::kDim;
  using Code = unsigned long long;
  using Tables = OctetBlockTables;
  using Params = OctetView;
  using Context = OctetView;
  __device__ static Context prepare(const Params& view) { return view; }
  __device__ static int natural(const Context& c, int i) { return c.trio[i]; }
  __device__ static void decode(const Context& c, Code code, float scale, float* out) {
    octet_decode_trio(c, code, scale, out);
  }
  // The lane-per-block variant of the GEMV (fused_gemv_kernel); octet_gemv_kernel is the default.
  __device__ static float dot(const Context& c, Code code, float scale, const float* x) {
    return octet_dot_trio(c, code, scale, x);
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

// Sums acc over the warp (every lane gets the total; lane 0's is what the GEMVs write).
__device__ inline float warp_sum(float acc) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, offset);
  return acc;
}

template <class F, class X>
__global__ void __launch_bounds__(kWarpsPerCta* kWarp)
    fused_gemv_kernel(const typename F::Params params, const uint8_t* __restrict__ codes,
                      const float* __restrict__ scales, const X* __restrict__ x, float* __restrict__ y,
                      KernelShape s) {
  const typename F::Context t = F::prepare(params);  // before any warp leaves
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
  acc = warp_sum(acc);
  if (lane == 0) y[row] = acc;
}

inline constexpr int kOctetBlocksPerStep = kWarp / 3;  // 10 blocks, lanes 30 and 31 idle

// y_t = W·x_t for the Leech family and kTokens inputs (x_slots [kTokens][cols] in trio order,
// y [kTokens][rows]). Lane 3b + k decodes octet k of block j0 + b once and multiplies it with
// each token's 8 entries of x_slots (the warp's 240 floats per token are contiguous); the
// block's norm, which its factor needs, is the sum of its three lanes'. Each token's arithmetic
// is the one-token kernel's, which the host twin (gemv_rows_host) follows operation by
// operation. (A template, as every kernel here, so that each translation unit including this
// header may instantiate it.)
template <int kTokens>
__global__ void __launch_bounds__(kWarpsPerCta* kWarp)
    octet_gemv_kernel(const OctetView t, const uint8_t* __restrict__ codes, const float* __restrict__ scales,
                      const float* __restrict__ x_slots, float* __restrict__ y, KernelShape s) {
  const int lane = threadIdx.x % kWarp;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerCta + threadIdx.x / kWarp;
  if (row >= s.rows) return;  // the whole warp: the shuffles below keep every lane
  const int b = lane / 3, k = lane - 3 * b, first_lane = 3 * b;  // lanes 30, 31: b = 10, idle
  const unsigned long long* words = reinterpret_cast<const unsigned long long*>(codes) + row * s.blocks_per_row;
  const float* row_scales = scales + row * s.groups_per_row;
  const bool one_scale = s.groups_per_row == 1;  // the usual case: no division per block
  const float row_scale = __ldg(row_scales);
  float acc[kTokens];
#pragma unroll
  for (int i = 0; i < kTokens; ++i) acc[i] = 0.f;
  for (int j0 = 0; j0 < s.blocks_per_row; j0 += kOctetBlocksPerStep) {
    const int j = j0 + b;
    const bool live = b < kOctetBlocksPerStep && j < s.blocks_per_row;
    unsigned long long word = 0;
    uint32_t norm = 0;
    float part[kTokens];
#pragma unroll
    for (int i = 0; i < kTokens; ++i) part[i] = 0.f;
    if (live) {
      word = __ldg(words + j);
      float u[8];
      norm = octet_slice(t, word, k, u);
#pragma unroll
      for (int i = 0; i < kTokens; ++i) {
        float xv[8];
        load_x<8>(x_slots + i * s.cols + (3 * static_cast<int64_t>(j) + k) * 8, xv);
        part[i] = octet_slice_dot(u, xv);
      }
    }
    const uint32_t total = __shfl_sync(0xffffffffu, norm, first_lane) + __shfl_sync(0xffffffffu, norm, first_lane + 1) +
                           __shfl_sync(0xffffffffu, norm, first_lane + 2);
    if (live) {
      const float scale = one_scale ? row_scale : __ldg(row_scales + j / s.blocks_per_group);
      const float factor = octet_gemv_factor(t, word, total, scale);
#pragma unroll
      for (int i = 0; i < kTokens; ++i) acc[i] = fmaf(factor, part[i], acc[i]);
    }
  }
#pragma unroll
  for (int i = 0; i < kTokens; ++i) {
    const float sum = warp_sum(acc[i]);
    if (lane == 0) y[i * s.rows + row] = sum;
  }
}

template <class F>
__global__ void __launch_bounds__(kDecodeThreads)
    decode_half_kernel(const typename F::Params params, const uint8_t* __restrict__ codes,
                       const float* __restrict__ scales, __half* __restrict__ out, KernelShape s) {
  static_assert(F::kDim % 8 == 0, "blocks are written as 16-byte groups of 8 halves");
  const typename F::Context t = F::prepare(params);
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

// out[b·kDim + s] = x[b·kDim + natural(s)] for every block b of each of the n / cols inputs
// (x and out [n / cols][cols]): x in the family's slot order, as floats (the octet word's trio
// order; x may be fp16).
template <class X>
__global__ void permute_x_kernel(const uint8_t* __restrict__ trio, const X* __restrict__ x, float* __restrict__ out,
                                 int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int64_t block = i / octet::kDim;  // counted over all inputs: cols is a multiple of kDim
  const int slot = static_cast<int>(i - block * octet::kDim);
  out[i] = static_cast<float>(x[block * octet::kDim + trio[slot]]);
}

}  // namespace llvq::cuda::detail
