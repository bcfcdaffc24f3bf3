// Private pieces shared by the kernel families (src/kernels).
#pragma once

#include <cstdint>
#include <memory>

#include "llvq/kernels.hpp"

namespace llvq::kernels::detail {

// Whether the family has kernels for this codec.
bool leech_handles(const Codec& codec);
bool table_handles(const Codec& codec);
// Each family converts the codec's bitstream (size already checked by pack()) into its own
// PackedMatrix, validating every code (InputError).
std::unique_ptr<PackedMatrix> pack_leech(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows,
                                         int64_t cols);
std::unique_ptr<PackedMatrix> pack_table(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows,
                                         int64_t cols);

}  // namespace llvq::kernels::detail
