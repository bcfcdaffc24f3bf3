// The GPU layout of a quantized matrix, built on the host from the codec's bitstream
// (Codec::encode_rows) and uploaded as is. Host-only code, compiled in every build, so the
// conversion and the shared per-block decode are tested on machines without a GPU.
//
// Layout: the fixed-width block codes of every row, back to back, each padded to whole 16-bit
// words ([rows][blocks][words_per_block], least significant word first), and one float scale
// per group of blocks ([rows][groups]). A warp reading consecutive blocks of a row thus reads
// consecutive memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cuda/e8p_block.hpp"
#include "llvq/codec.hpp"

namespace llvq::cuda::detail {

enum class Family { E8p };

struct HostLayout {
  Family family = Family::E8p;
  std::string spec;
  int64_t rows = 0, cols = 0;
  int block_dim = 0;
  int words_per_block = 0;     // 16-bit words per block code
  int64_t blocks_per_row = 0;
  int64_t blocks_per_group = 0;  // blocks sharing one scale
  int64_t groups_per_row = 0;
  std::vector<uint16_t> codes;  // [rows][blocks_per_row][words_per_block]
  std::vector<float> scales;    // [rows][groups_per_row]

  uint64_t bytes() const { return codes.size() * sizeof(uint16_t) + scales.size() * sizeof(float); }
};

// Whether the CUDA kernels handle this codec (its family; a host-side check).
bool cuda_handles(const Codec& codec);
// Converts `rows` rows of `cols` weights coded by `codec` (size bytes). InputError when the
// codec has no CUDA kernels or the shape and size do not match.
HostLayout make_layout(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows, int64_t cols);

// The decode tables of E8P, built from the codec's own codebook at start-up.
const E8pTables& e8p_tables();

// Rows [r0, r1) decoded on the host with the same per-block functions as the GPU, into
// out[(r − r0)·cols + c]: the CPU twin of the decode kernel.
void decode_rows_host(const HostLayout& layout, int64_t r0, int64_t r1, float* out);

}  // namespace llvq::cuda::detail
