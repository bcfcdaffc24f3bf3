// Spherical Leech quantization (Λ24-SQ, docs/background.md §2) as a batch tokenizer API: each
// 24-vector maps to the nearest (in angle) of the 196,560 minimal Leech vectors normalised to
// the unit sphere. Codes are 0..196,559 (18 bits); the codec "l24sq" wraps the same search.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace llvq {

inline constexpr uint32_t kL24sqCodebookSize = 196560;

// Codes of `count` vectors x[24·i .. 24·i+23] (any norm; zero vectors get some valid code).
std::vector<uint32_t> l24sq_encode(const float* x, size_t count);
// Unit vectors of `count` codes into out[24·i ..]; InputError for a code out of range.
void l24sq_decode(const uint32_t* codes, size_t count, float* out);

}  // namespace llvq
