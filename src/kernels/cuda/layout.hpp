// The GPU layout of a quantized matrix, built on the host from the codec's bitstream
// (Codec::encode_rows) and uploaded as is. Host-only code, compiled in every build, so the
// conversion and the shared per-block decodes are tested on machines without a GPU.
//
// Layout: one fixed-size code per block, the blocks of every row back to back
// ([rows][blocks] codes of code_bytes each), and one float scale per group of blocks
// ([rows][groups]). A warp reading consecutive blocks of a row thus reads consecutive memory.
//   E8P:   the 16-bit code as is (2 bytes per 8 weights);
//   Leech: the octet word of kernels/octet_word.hpp in 64 bits (8 bytes per 24 weights), which
//          decodes with three 8-byte pattern lookups (octet_block.hpp), plus the matrix's
//          escape list (the rare points whose octets fit no field layout).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cuda/e8p_block.hpp"
#include "kernels/cuda/octet_block.hpp"
#include "llvq/codec.hpp"

namespace llvq::cuda::detail {

enum class Family { E8p, Leech };

struct HostLayout {
  Family family = Family::E8p;
  std::string spec;
  int64_t rows = 0, cols = 0;
  int block_dim = 0;
  int code_bytes = 0;  // bytes per block code: 2 (E8P) or 8 (Leech)
  int64_t blocks_per_row = 0;
  int64_t blocks_per_group = 0;  // blocks sharing one scale
  int64_t groups_per_row = 0;
  std::vector<uint8_t> codes;  // [rows][blocks_per_row] codes, little-endian
  std::vector<float> scales;   // [rows][groups_per_row]
  std::vector<octet::Escape> escapes;  // Leech: indexed by the escaped words
  // The family's decode tables (E8pTables or OctetBlockTables), owned by a process-wide cache:
  // the GPU copy is made from these bytes.
  const void* tables = nullptr;
  size_t table_bytes = 0;

  uint64_t bytes() const {
    return codes.size() + scales.size() * sizeof(float) + escapes.size() * sizeof(octet::Escape);
  }
  uint16_t e8p_code(int64_t r, int64_t j) const;
  uint64_t leech_word(int64_t r, int64_t j) const;
};

// Whether the CUDA kernels handle this codec (its family; a host-side check).
bool cuda_handles(const Codec& codec);
// Converts `rows` rows of `cols` weights coded by `codec` (size bytes), validating every
// block code. InputError when the codec has no CUDA kernels, the shape and size do not match,
// or a code is invalid.
HostLayout make_layout(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows, int64_t cols);

// The decode tables of E8P, built from the codec's own codebook at start-up.
const E8pTables& e8p_tables();

// Which fused GEMV the Leech family runs: one lane per octet (octet_gemv_kernel, the default)
// or one lane per block (fused_gemv_kernel over OctetFamily), kept so that the bench and the
// tests can run both; process-wide, as octet::set_wide_gemv is for the CPU.
enum class LeechGemv { LanePerOctet, LanePerBlock };
void set_leech_gemv(LeechGemv variant);
LeechGemv leech_gemv();
// Forces a variant for its lifetime, then returns to the default (even when the code in
// between throws).
class LeechGemvScope {
 public:
  explicit LeechGemvScope(LeechGemv variant) { set_leech_gemv(variant); }
  ~LeechGemvScope() { set_leech_gemv(LeechGemv::LanePerOctet); }
  LeechGemvScope(const LeechGemvScope&) = delete;
  LeechGemvScope& operator=(const LeechGemvScope&) = delete;
};

// The Leech family's tables of a codec (built once per codec spec from the CPU kernels'
// octet tables); nullptr when the codec has none.
const OctetBlockTables* octet_block_tables(const Codec& codec);

// Rows [r0, r1) decoded on the host with the same per-block functions as the GPU, into
// out[(r − r0)·cols + c]: the CPU twin of the decode kernel.
void decode_rows_host(const HostLayout& layout, int64_t r0, int64_t r1, float* out);
// y[r − r0] = row r · x for r in [r0, r1), with the per-block dot products of the fused GEMV
// kernel and x in their slot order: the CPU twin of the fused GEMV (sums in its order: per
// lane over blocks lane, lane + 32, …, then the lanes' tree).
void gemv_rows_host(const HostLayout& layout, const float* x, int64_t r0, int64_t r1, float* y);

}  // namespace llvq::cuda::detail
