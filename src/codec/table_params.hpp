// Read-only views of the E8P and scalar codecs' parameters, for the table kernels
// (src/kernels/table_*): they rebuild their decode tables from the codec itself, so the
// kernels and Codec::decode_rows can never disagree about the codebook.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "llvq/codec.hpp"

namespace llvq::codec_detail {

// E8P (e8p.cpp). Pattern k holds the absolute values of a base point in units of ½ (odd
// integers); neg_parity[k] is the parity of the number of minus signs that keeps the
// coordinate sum even, which fixes the sign of coordinate 7.
struct E8pParams {
  size_t group = 0;  // weights per scale; 0 = one scale per row
  std::array<std::array<int, 8>, 256> patterns{};
  std::array<int, 256> neg_parity{};
};
bool is_e8p(const Codec& codec);
E8pParams e8p_params(const Codec& codec);  // InputError when the codec is not E8P

// Scalar (scalar.cpp): code k of a weight decodes to levels[k] × the group's scale.
struct ScalarParams {
  int bits = 0;
  size_t group = 0;  // weights per scale; 0 = one scale per row
  std::vector<double> levels;  // 2^bits entries
};
bool is_scalar(const Codec& codec);
ScalarParams scalar_params(const Codec& codec);  // InputError when the codec is not scalar

}  // namespace llvq::codec_detail
