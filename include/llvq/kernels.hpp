// Compute kernels that run directly on quantized weights: decode-to-float of a whole matrix
// (prefill, checks) and fused decode + matrix–vector product (batch-1 generation), with a
// scalar reference and AVX2 / AVX-512 versions chosen at run time from the CPU's features.
//
// Kernels work on a `PackedMatrix`: a quantized matrix converted from the codec's minimal
// bitstream (Codec::encode_rows) into a layout made for fast, fully parallel decoding
// (docs/kernels.md). The conversion is lossless both ways (to_codes() gives the bitstream
// back bit for bit) and validates every block once, so kernels never see an invalid code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llvq/cpu.hpp"

namespace llvq {

class Codec;

namespace kernels {

// Instruction-set levels and the CPU check (llvq/cpu.hpp).
using ::llvq::best_isa;
using ::llvq::cpu_supports;
using ::llvq::Isa;
using ::llvq::parse_isa;
using ::llvq::to_string;
// The level kernels use: best_isa(), or what set_isa() / the LLVQ_ISA environment variable
// chose. set_isa() throws InputError for a level the CPU does not support.
Isa active_isa();
void set_isa(Isa isa);
// Forces a level for a scope (tests, benchmarks); restores the previous one on exit.
class IsaScope {
 public:
  explicit IsaScope(Isa isa);
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;

 private:
  IsaLevelScope scope_;
};

// A quantized matrix [rows, cols] in the kernel layout; cols is the coded width (a multiple of
// the codec's block). All const methods are thread-safe.
class PackedMatrix {
 public:
  virtual ~PackedMatrix() = default;
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  virtual std::string codec_spec() const = 0;
  // Bytes of the layout per matrix (codes + side information; shared decode tables excluded).
  virtual uint64_t bytes() const = 0;
  // Exact bits per weight of this layout.
  double bits_per_weight() const { return 8.0 * static_cast<double>(bytes()) / static_cast<double>(rows_ * cols_); }
  // Rows [r0, r1) into out[(r - r0) · cols + c].
  virtual void decode_rows(int64_t r0, int64_t r1, float* out, Isa isa) const = 0;
  // y[r − r0] = Σ_c W[r, c] · x[c] for r in [r0, r1); x has cols() entries.
  virtual void gemv_rows(const float* x, int64_t r0, int64_t r1, float* y, Isa isa) const = 0;
  // The same for `tokens` inputs at once (x_t = x + t·ldx, results y[t·ldy + r − r0]). The
  // default calls gemv_rows per token; layouts whose decode costs more than the multiply (the
  // Leech octet word) decode each block once for all tokens, with each token's arithmetic that
  // of their one-block GEMV (bit-identical to gemv_rows wherever that runs the one-block kernel;
  // the AVX-512 eight-block kernel of Intel CPUs sums in another order).
  virtual void gemm_rows(const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1, float* y, int64_t ldy,
                         Isa isa) const;
  // Batches up to this many tokens run faster through gemm_rows than through decoding the rows
  // and multiplying: 4 where gemm_rows is a GEMV per token, 8 for the octet word's batched kernel
  // (docs/kernels.md, "Inference").
  virtual int64_t fused_tokens() const { return 4; }
  // The codec's minimal bitstream (rows back to back, Codec::encode_rows), bit for bit.
  virtual std::vector<uint8_t> to_codes() const = 0;

 protected:
  PackedMatrix(int64_t rows, int64_t cols) : rows_(rows), cols_(cols) {}

 private:
  int64_t rows_, cols_;
};

// Whether the codec has kernels (its spec's family is supported).
bool has_kernels(const Codec& codec);
// Converts `rows` rows of `cols` weights coded by `codec` (size bytes, Codec::encode_rows
// layout). InputError when the codec has no kernels, the size does not match, or any block
// holds an invalid code.
std::unique_ptr<PackedMatrix> pack(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows,
                                   int64_t cols);

// GLVQ's tensor-level form (llvq/glvq.hpp), as its kernels take it: the columns [0, cols) are
// cut into groups of `group_width` (the last may be narrower; every width a multiple of dim);
// group g decodes a D-vector of a row as w = s_g·sign(y)·expm1(ln(1+μ_g)·|y|)/μ_g with
// y = G_g·(z − (2^b_g − 1)/2), or w = y without companding, times the row's scale. A group of
// b_g = 0 bits decodes to zeros. Only the Babai (box of Z^D + ½) codebook has kernels. G and
// the row scales are held as floats (GLVQ's fp16 values are exact in float).
struct GroupedLatticeCodes {
  std::string spec;         // the quantizer's spec, for messages and codec_spec()
  int64_t rows = 0, cols = 0;
  int dim = 8;              // 8, 24 or 32
  int64_t group_width = 0;  // columns per group
  std::vector<double> g;    // per group D×D, row-major
  std::vector<double> mu, scale;  // per group, μ > 0 and s > 0; both empty without companding
  std::vector<uint8_t> bits;      // per group, 0..9
  std::vector<uint8_t> codes;     // z, LSB first: group by group, rows of the group back to back
  std::vector<double> row_scale;  // per row, > 0; empty: none
};
// The layout for the GLVQ kernels; InputError on inconsistent sizes, widths or values.
std::unique_ptr<PackedMatrix> pack_grouped_lattice(const GroupedLatticeCodes& codes);

// Blocks of 24 small integers with one factor each, w = factor·v: the in-memory form of codecs
// whose blocks decode to a scaled lattice point but have no kernels on their codes (the 3- and
// 4-bit Leech codes, Codec::decode_rows_integers). The matrix is decoded once into this form:
// 8 bits per weight and a float per block in memory (9.33 bpw) instead of fp32's 32, and a GEMV
// that reads a third of fp32's bytes. It keeps no codes (to_codes() throws InputError).
struct IntegerBlocks {
  std::string spec;             // the codec's spec, for codec_spec() and messages
  int64_t rows = 0, cols = 0;   // cols a multiple of 24
  std::vector<int8_t> values;   // rows·cols, row-major
  std::vector<float> factors;   // rows·cols / 24, finite
};
// InputError on inconsistent sizes or non-finite factors.
std::unique_ptr<PackedMatrix> pack_integer_blocks(IntegerBlocks blocks);
// The same from a codec's bitstream (Codec::encode_rows layout), every block decoded once
// through Codec::decode_rows_integers; nullptr when the codec's blocks are not 24 integers and
// a factor (or a point does not fit int8).
std::unique_ptr<PackedMatrix> pack_integer_blocks(const Codec& codec, const uint8_t* codes, size_t size,
                                                  int64_t rows, int64_t cols);

// Whole-matrix drivers: rows split over `threads` OpenMP threads (0 = all), active_isa().
void decode(const PackedMatrix& m, float* out, int threads = 0);
void gemv(const PackedMatrix& m, const float* x, float* y, int threads = 0);
// y_t = W·x_t for `tokens` inputs x_t = x + t·ldx (ldx ≥ cols), into y[t·rows() + r]: a few
// tokens at a time (small batches, speculative decoding); see PackedMatrix::gemm_rows.
void gemm(const PackedMatrix& m, const float* x, int64_t ldx, int64_t tokens, float* y, int threads = 0);

// Dense baselines for the benchmarks: y = W·x with fp32 or fp16 (IEEE half) weights [rows, cols].
void gemv_f32(const float* w, int64_t rows, int64_t cols, const float* x, float* y, int threads = 0);
void gemv_f16(const uint16_t* w, int64_t rows, int64_t cols, const float* x, float* y, int threads = 0);
// y = W·x for W stored as GGUF Q8_0 blocks (rows × cols/32 blocks of 34 bytes: an fp16 scale and
// 32 int8), as GGUF files and `llvq quantize --dense-type q8_0` keep dense weights: a tied
// classifier then reads 8.5 bits a weight instead of its 32-bit dequantization. InputError
// unless cols is a multiple of 32. Agrees with the fp32 GEMV of the dequantized weights within
// float rounding.
void gemv_q8_0(const uint8_t* blocks, int64_t rows, int64_t cols, const float* x, float* y, int threads = 0);
// Q8_0 blocks of values[0, n) as ggml's reference quantizer makes them (per 32 values: fp16 scale
// max|x|/127, int8 round-half-away); InputError unless the count is a multiple of 32.
std::vector<uint8_t> quantize_q8_0(const float* values, size_t n);
// The fp32 baseline for `tokens` inputs x_t = x + t·ldx at once, into y[t·rows + r]: each load of
// W serves every token (W is read once), as a dense engine batches.
void gemm_f32(const float* w, int64_t rows, int64_t cols, const float* x, int64_t ldx, int64_t tokens, float* y,
              int threads = 0);

}  // namespace kernels
}  // namespace llvq
