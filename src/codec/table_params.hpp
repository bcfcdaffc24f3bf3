// Read-only views of the E8P and scalar codecs' parameters, for the table kernels
// (src/kernels/table_*): they rebuild their decode tables from the codec itself, so the
// kernels and Codec::decode_rows can never disagree about the codebook.
#pragma once

#include <cstddef>
#include <vector>

#include "llvq/codec.hpp"

namespace llvq::codec_detail {

// E8P (e8p.cpp); its codebook is codec_detail::e8p_codeword (codec_impl.hpp).
bool is_e8p(const Codec& codec);
size_t e8p_group(const Codec& codec);  // weights per scale, 0 = one per row; InputError if not E8P

// Scalar (scalar.cpp): code k of a weight decodes to levels[k] × the group's scale.
struct ScalarParams {
  int bits = 0;
  size_t group = 0;  // weights per scale; 0 = one scale per row
  std::vector<double> levels;  // 2^bits entries
};
bool is_scalar(const Codec& codec);
ScalarParams scalar_params(const Codec& codec);  // InputError when the codec is not scalar

}  // namespace llvq::codec_detail
