// Hugging Face's Llama conversion reorders the rows of q and k within every head so that
// RoPE pairs dimension i with i + d/2 ("half-split") instead of 2i with 2i+1
// ("interleaved", Meta / llama2.c / GGUF). Within a head of size d, HF row s·d/2 + i holds
// Meta row 2i + s (s ∈ {0,1}, i < d/2). These functions move whole rows between the two.
#pragma once

#include <cstdint>
#include <vector>

namespace llvq::rope {

// [n_heads·head_dim, cols] in HF (half-split) row order → interleaved order.
std::vector<float> half_split_to_interleaved(const std::vector<float>& w, int n_heads, int64_t cols);
// The inverse.
std::vector<float> interleaved_to_half_split(const std::vector<float>& w, int n_heads, int64_t cols);

}  // namespace llvq::rope
