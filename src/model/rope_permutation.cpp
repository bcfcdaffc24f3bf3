#include "rope_permutation.hpp"

#include <algorithm>

#include "llvq/error.hpp"

namespace llvq::rope {
namespace {

// Copies every row between the layouts; `to_interleaved` picks the direction.
std::vector<float> permute_rows(const std::vector<float>& w, int n_heads, int64_t cols, bool to_interleaved) {
  const int64_t rows = cols > 0 ? static_cast<int64_t>(w.size()) / cols : 0;
  if (n_heads <= 0 || cols <= 0 || rows * cols != static_cast<int64_t>(w.size()) || rows % (2 * n_heads) != 0)
    throw InputError("RoPE row permutation: " + std::to_string(w.size()) + " values are not " +
                     std::to_string(n_heads) + " heads of an even size × " + std::to_string(cols) + " columns");
  const int64_t head_dim = rows / n_heads, half = head_dim / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t i = 0; i < half; ++i) {
        const int64_t interleaved = h * head_dim + 2 * i + s, split = h * head_dim + s * half + i;
        const int64_t from = to_interleaved ? split : interleaved, to = to_interleaved ? interleaved : split;
        std::copy_n(w.begin() + from * cols, cols, out.begin() + to * cols);
      }
  return out;
}

}  // namespace

std::vector<float> half_split_to_interleaved(const std::vector<float>& w, int n_heads, int64_t cols) {
  return permute_rows(w, n_heads, cols, true);
}

std::vector<float> interleaved_to_half_split(const std::vector<float>& w, int n_heads, int64_t cols) {
  return permute_rows(w, n_heads, cols, false);
}

}  // namespace llvq::rope
