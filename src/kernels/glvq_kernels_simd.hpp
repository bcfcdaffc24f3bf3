// The GLVQ SIMD row kernels (glvq_kernels.hpp), written once over a per-ISA traits type T and
// included only by glvq_kernels_avx2.cpp and glvq_kernels_avx512.cpp, each of which defines its
// traits first; everything here has internal linkage, and no std:: container or algorithm is
// instantiated (docs/kernels.md: no inline code shared with other ISA levels).
//
// T supplies the linear GEMV's integer-code dot product: Vec and kLanes; Unpack, built from a
// group (its width and Group's precomputed shifts), which returns the kLanes codes at a byte
// address as 32-bit lanes in the order kLaneColumn (lane → column of the chunk); kMaxBits,
// the widest codes it unpacks (wider groups take a scalar loop); zero, load,
// fma(codes, x', acc), add and sum. Decoding a block (decode,
// and the GEMV with companding) works on 8-float vectors with AVX2 instructions in both builds:
// its cost is G·z and the expansion, not the vector width.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "kernels/glvq_kernels.hpp"
#include "kernels/simd_sum.hpp"

namespace llvq::kernels::glvq {
namespace {

inline int64_t load64(const uint8_t* p) {
  int64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// 8 codes of b ≤ 9 bits at p as 32-bit lanes [z0, z4, z1, z5, z2, z6, z3, z7]: codes 0..3 from
// the 8 bytes at p, codes 4..7 from the 8 bytes at p + ⌊4b/8⌋, each by a per-lane shift within
// its 64-bit lane (right for the low dword, left to bit 32 for the high one; Group::shift8),
// then one blend.
struct Unpack8 {
  static constexpr int kLaneColumn[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  __m256i lo_shift, hi_shift, mask;
  int64_t hi_byte;
  explicit Unpack8(const Group& grp)
      : lo_shift(_mm256_load_si256(reinterpret_cast<const __m256i*>(grp.shift8))),
        hi_shift(_mm256_load_si256(reinterpret_cast<const __m256i*>(grp.shift8 + 4))),
        mask(_mm256_set1_epi32((1 << grp.bits) - 1)),
        hi_byte(grp.hi_byte8) {}
  __m256i operator()(const uint8_t* p) const {
    const __m256i lo = _mm256_srlv_epi64(_mm256_set1_epi64x(load64(p)), lo_shift);
    const __m256i hi = _mm256_sllv_epi64(_mm256_set1_epi64x(load64(p + hi_byte)), hi_shift);
    return _mm256_and_si256(_mm256_blend_epi32(lo, hi, 0xAA), mask);
  }
  // The codes as floats, still in lane order.
  __m256 floats(const uint8_t* p) const { return _mm256_cvtepi32_ps((*this)(p)); }
  // Code j of 8 broadcast to every lane, from floats() (kLaneColumn inverted).
  static constexpr int kLaneOfCode[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  static __m256 broadcast(__m256 codes, int j) {
    return _mm256_permutevar8x32_ps(codes, _mm256_set1_epi32(kLaneOfCode[j]));
  }
};

// e^u for 0 ≤ u ≤ 88: u = n·ln 2 + r with |r| ≤ ½·ln 2 (ln 2 split in two parts so that r is
// exact), e^r = 1 + r + r²·p(r) with the degree-5 minimax p of the Cephes library's expf,
// 2^n added to the exponent field. Relative error a few ulp.
inline __m256 exp8(__m256 u) {
  u = _mm256_min_ps(u, _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(u, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), u);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i two_n = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), two_n));
}

// The μ-law expansion (s/μ)·sign(y)·(e^(ln(1+μ)·|y|) − 1).
inline __m256 expand8(__m256 y, const Group& grp) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 u = _mm256_mul_ps(_mm256_andnot_ps(sign_bit, y), _mm256_set1_ps(grp.log1p_mu));
  const __m256 w = _mm256_mul_ps(_mm256_sub_ps(exp8(u), _mm256_set1_ps(1.0f)), _mm256_set1_ps(grp.scale_over_mu));
  return _mm256_or_ps(w, _mm256_and_ps(y, sign_bit));
}

// Block k (columns [k, k + D) of the group, D = 8·kVecs) of a row's segment: y = Σ_j z_j·G_j − c·G·1,
// expanded when the group compands.
// Inlined into the row loops, so that y stays in registers and blocks overlap.
template <int kVecs>
[[gnu::always_inline]] inline void decode_block(const Group& grp, const Unpack8& unpack, const uint8_t* segment, int k,
                                                __m256 (&y)[kVecs]) {
  constexpr int kDim = 8 * kVecs;
  const float* g_cols = grp.g_cols;
  // Two accumulators per output vector (even and odd j) halve the FMA chain's latency.
  __m256 acc[2][kVecs];
  for (int m = 0; m < kVecs; ++m) {
    acc[0][m] = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_loadu_ps(grp.g_offset + 8 * m));
    acc[1][m] = _mm256_setzero_ps();
  }
  // The codes stay in registers: each is broadcast by a lane permute (a broadcast load from a
  // freshly stored vector stalls on store forwarding).
  for (int n = 0; n < kVecs; ++n) {
    const __m256 z = unpack.floats(segment + (k + 8 * n) * grp.bits / 8);
    for (int j = 0; j < 8; ++j) {
      const __m256 zj = Unpack8::broadcast(z, j);
      const float* column = g_cols + (8 * n + j) * kDim;
      for (int m = 0; m < kVecs; ++m)
        acc[j & 1][m] = _mm256_fmadd_ps(zj, _mm256_loadu_ps(column + 8 * m), acc[j & 1][m]);
    }
  }
  for (int m = 0; m < kVecs; ++m) {
    const __m256 sum = _mm256_add_ps(acc[0][m], acc[1][m]);
    y[m] = grp.expand ? expand8(sum, grp) : sum;
  }
}

// 1/m for m in (0, 1]: the approximate reciprocal refined by one Newton step (relative error
// ~1e-7), in place of a division, which has a much lower throughput.
inline __m256 reciprocal(__m256 m) {
  const __m256 r = _mm256_rcp_ps(m);
  return _mm256_mul_ps(r, _mm256_fnmadd_ps(m, r, _mm256_set1_ps(2.0f)));
}

// A companding group's chunk tables at D = 8 (Group::table, kChunk codes per chunk), set up
// once per group: block() gives a block's 8 weights divided by s/μ. P = e^(a·y) is the product
// of the chunks' e^(a·y_t), and the expansion (s/μ)·sign(y)·(e^(a|y|) − 1) is
// (s/μ)·(P − 1)/min(P, 1).
template <int kChunk>
struct ChunkTables {
  static constexpr int kChunks = 8 / kChunk;
  const float* base[kChunks];  // chunk t's table
  int field;
  uint64_t mask;
  explicit ChunkTables(const Group& grp) : field(kChunk * grp.bits), mask((uint64_t{1} << field) - 1) {
    for (int t = 0; t < kChunks; ++t) base[t] = grp.table + (int64_t{t} << field) * 8;
  }
  // `word`: the block's 8 codes (b ≤ 8 whole bytes).
  __m256 block(uint64_t word) const {
    __m256 p = _mm256_loadu_ps(base[0] + static_cast<int64_t>(word & mask) * 8);
    for (int t = 1; t < kChunks; ++t)
      p = _mm256_mul_ps(p, _mm256_loadu_ps(base[t] + static_cast<int64_t>(word >> (t * field) & mask) * 8));
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_mul_ps(_mm256_sub_ps(p, one), reciprocal(_mm256_min_ps(p, one)));
  }
};

// Whether the group decodes by its chunk tables (D = 8 only).
template <int kVecs>
bool uses_tables(const Group& grp) {
  return kVecs == 1 && grp.chunk_codes != 0;
}

// The factor that for_each_block leaves out of its blocks: s/μ with tables, else 1.
template <int kVecs>
float block_factor(const Group& grp) {
  return uses_tables<kVecs>(grp) ? grp.scale_over_mu : 1.0f;
}

// Calls f(k, y) with every block k of the group's segment decoded into y, divided by
// block_factor(): by its tables when it has them, else by G·z.
template <int kVecs, class F>
[[gnu::always_inline]] inline void for_each_block(const Group& grp, const uint8_t* segment, F&& f) {
  constexpr int kDim = 8 * kVecs;
  if constexpr (kVecs == 1) {
    auto run = [&](const auto& tables) {
      const uint8_t* p = segment;
      for (int k = 0; k < grp.width; k += 8, p += grp.bits) {
        __m256 y[1] = {tables.block(static_cast<uint64_t>(load64(p)))};
        f(k, y);
      }
    };
    if (grp.chunk_codes == 2) return run(ChunkTables<2>(grp));
    if (grp.chunk_codes == 1) return run(ChunkTables<1>(grp));
  }
  const Unpack8 unpack(grp);
  for (int k = 0; k < grp.width; k += kDim) {
    __m256 y[kVecs];
    decode_block<kVecs>(grp, unpack, segment, k, y);
    f(k, y);
  }
}

template <int kVecs>
void decode_rows_body(const View& v, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = v.codes + r * v.row_bytes;
    float* o = out + (r - r0) * v.cols;
    const float rs = v.row_scale ? v.row_scale[r] : 1.0f;
    for (int gi = 0; gi < v.groups; ++gi) {
      const Group& grp = v.group[gi];
      float* og = o + grp.col0;
      if (grp.bits == 0) {
        std::memset(og, 0, sizeof(float) * static_cast<size_t>(grp.width));
        continue;
      }
      const __m256 scale = _mm256_set1_ps(block_factor<kVecs>(grp) * rs);
      for_each_block<kVecs>(grp, row + grp.row_offset, [&](int k, const __m256(&y)[kVecs]) {
        for (int m = 0; m < kVecs; ++m) _mm256_storeu_ps(og + k + 8 * m, _mm256_mul_ps(y[m], scale));
      });
    }
  }
}

// The GEMV of companding groups: every block decoded, then multiplied by x.
template <int kVecs>
void gemv_decoded_body(const View& v, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = v.codes + r * v.row_bytes;
    __m256 total = _mm256_setzero_ps();
    for (int gi = 0; gi < v.groups; ++gi) {
      const Group& grp = v.group[gi];
      if (grp.bits == 0) continue;
      const float* xg = x + grp.col0;
      // Two FMA chains, alternating (swapped registers: an array indexed by a parity would
      // live on the stack and chain every block through store forwarding).
      __m256 acc = _mm256_setzero_ps(), other = _mm256_setzero_ps();
      for_each_block<kVecs>(grp, row + grp.row_offset, [&](int k, const __m256(&w)[kVecs]) {
        for (int m = 0; m < kVecs; ++m) {
          const __m256 sum = _mm256_fmadd_ps(w[m], _mm256_loadu_ps(xg + k + 8 * m), acc);
          acc = other;
          other = sum;
        }
      });
      total = _mm256_fmadd_ps(_mm256_set1_ps(block_factor<kVecs>(grp)), _mm256_add_ps(acc, other), total);
    }
    y[r - r0] = sum8(total) * (v.row_scale ? v.row_scale[r] : 1.0f);
  }
}

// Σ_i z_i·x'_i over one group's segment in column order (groups wider than T::kMaxBits).
inline float dot_scalar(const uint8_t* segment, int bits, int width, const float* xp) {
  float s = 0;
  for (int i = 0; i < width; ++i) s += static_cast<float>(code_at(segment, bits, i)) * xp[i];
  return s;
}

// The linear GEMV: y_r = s_r·(Σ_g ⟨z_{r,g}, x'_g⟩ − Σ_g c_g·Σ x'_g).
template <class T>
void gemv_linear_body(const View& v, const float* x, int64_t r0, int64_t r1, float* y) {
  const LinearInput in = prepare_linear(v, x, T::kLanes, T::kLaneColumn, T::kMaxBits);
  constexpr int L = T::kLanes;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = v.codes + r * v.row_bytes;
    typename T::Vec acc0 = T::zero(), acc1 = T::zero();
    float rest = 0;
    for (int gi = 0; gi < v.groups; ++gi) {
      const Group& grp = v.group[gi];
      const int b = grp.bits;
      if (b == 0) continue;
      const uint8_t* p = row + grp.row_offset;
      const float* xp = in.xp + in.offset[gi];
      if (b > T::kMaxBits) {
        rest += dot_scalar(p, b, grp.width, xp);
        continue;
      }
      const typename T::Unpack u(grp);
      int c = 0;
      for (; c + 2 * L <= grp.width; c += 2 * L) {
        acc0 = T::fma(u(p + c * b / 8), T::load(xp + c), acc0);
        acc1 = T::fma(u(p + (c + L) * b / 8), T::load(xp + c + L), acc1);
      }
      // A last, partial chunk: its x' is zero past the group, so the codes read beyond count 0.
      if (c < grp.width) acc0 = T::fma(u(p + c * b / 8), T::load(xp + c), acc0);
    }
    const double dot = static_cast<double>(T::sum(T::add(acc0, acc1))) + rest - in.bias;
    y[r - r0] = static_cast<float>(dot * (v.row_scale ? v.row_scale[r] : 1.0f));
  }
}

inline void decode_rows_dispatch(const View& v, int64_t r0, int64_t r1, float* out) {
  switch (v.dim) {
    case 8: return decode_rows_body<1>(v, r0, r1, out);
    case 24: return decode_rows_body<3>(v, r0, r1, out);
    default: return decode_rows_body<4>(v, r0, r1, out);
  }
}

template <class T>
void gemv_rows_dispatch(const View& v, const float* x, int64_t r0, int64_t r1, float* y) {
  if (v.linear) return gemv_linear_body<T>(v, x, r0, r1, y);
  switch (v.dim) {
    case 8: return gemv_decoded_body<1>(v, x, r0, r1, y);
    case 24: return gemv_decoded_body<3>(v, x, r0, r1, y);
    default: return gemv_decoded_body<4>(v, x, r0, r1, y);
  }
}

}  // namespace
}  // namespace llvq::kernels::glvq
