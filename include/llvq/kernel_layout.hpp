// The contract between the codecs and the decode kernels (llvq/kernels.hpp): each codec with
// kernels publishes the layout of its block code (Codec::kernel_layout), and the kernels build
// their tables from that description alone — they never look inside a codec. One plain
// struct per family, the way a block-type table describes each quantized type's layout.
//
// Every family stores its side information the same way: one scale per group of `group`
// weights (0: one per row), kScaleBits bits each, as bfloat16 (bf16_to_scale).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace llvq {

inline constexpr int kScaleBits = 16;
float bf16_to_scale(uint16_t bits);

// A block is an index into the Leech ball Λ24(max_shell) (shells min_shell..max_shell; 0
// admits the origin), preceded by a gain index for ShapeGain:
//   ShapeGain (llvq-sg, l24sq): block = gain (gain_bits) | ball index, xhat = σ·level[g]·v/|v|;
//   Ball (llvq-ss at 2 bpw):    block = ball index, xhat = σ·v/lattice_scale.
struct LeechLayout {
  enum class Kind { ShapeGain, Ball };
  Kind kind = Kind::ShapeGain;
  std::string family;               // the codec's name: "llvq-sg", "l24sq" or "llvq-ss"
  int min_shell = 0;
  int max_shell = 0;
  int gain_bits = 0;
  std::vector<double> gain_levels;  // 2^gain_bits levels (ShapeGain)
  double lattice_scale = 1.0;       // s (Ball)
  size_t group = 0;
};

// E8P: 16-bit codes of 8 weights, xhat = σ·e8p_codeword(code).
struct E8pLayout {
  size_t group = 0;
};
// E8P's codebook at unit scale (its entries are multiples of 1/4).
std::array<double, 8> e8p_codeword(uint32_t code);

// Scalar: `bits` bits per weight, code k decodes to levels[k] × the group's scale.
struct ScalarLayout {
  int bits = 0;
  size_t group = 0;
  std::vector<double> levels;  // 2^bits entries
};

// std::monostate: the codec has no kernels.
using KernelLayout = std::variant<std::monostate, LeechLayout, E8pLayout, ScalarLayout>;

}  // namespace llvq
