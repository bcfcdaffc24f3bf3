// Private pieces shared by the kernel families (src/kernels).
#pragma once

#include <cstdint>
#include <memory>

#include "llvq/error.hpp"
#include "llvq/kernels.hpp"

namespace llvq::kernels::detail {

// The kernel for `isa` among a family's three (scalar reference, AVX2, AVX-512), after
// checking that the CPU has it: the one place a level becomes a function.
template <class Kernel>
Kernel for_isa(Isa isa, Kernel ref, Kernel avx2, Kernel avx512) {
  if (!cpu_supports(isa)) throw InputError("this CPU does not support " + to_string(isa));
  return isa == Isa::Avx512 ? avx512 : isa == Isa::Avx2 ? avx2 : ref;
}

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
