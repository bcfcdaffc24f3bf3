// The extended binary Golay code C24 [24,12,8].
//
// A codeword is a 24-bit mask: bit i set means coordinate i is in the codeword's support.
// Codewords come from the cyclic [23,12,7] code with generator polynomial
// g(x) = x^11+x^10+x^6+x^5+x^4+x^2+1 (0xC75), encoded systematically (message in bits
// 11..22, remainder in bits 0..10), extended by an overall parity bit in bit 23.
// Everything is computed at start-up from g(x); nothing is tabulated in the source.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace llvq::golay {

inline constexpr int kLength = 24;
inline constexpr int kDimension = 12;
inline constexpr uint32_t kGeneratorPoly = 0xC75;
inline constexpr uint32_t kWordMask = 0xFFFFFF;

// Codeword of a 12-bit message (bits above 12 are rejected with std::invalid_argument).
uint32_t encode(uint32_t message);

// The message of a codeword, or nullopt when `word` is not a codeword.
std::optional<uint32_t> decode(uint32_t word);

bool is_codeword(uint32_t word);

// All 4096 codewords, indexed by message.
const std::array<uint32_t, 4096>& codewords();

// Codewords of Hamming weight w (0, 8, 12, 16 or 24; empty for other weights), in
// increasing numeric order.
std::span<const uint32_t> codewords_of_weight(int weight);

// Position of `word` in codewords_of_weight(popcount(word)), or nullopt.
std::optional<uint32_t> index_in_weight_class(uint32_t word);

// Codewords of weight w whose support contains every position of `contain` and none of
// `avoid`, in increasing numeric order.
std::vector<uint32_t> codewords_with(int weight, uint32_t contain, uint32_t avoid);

// The unique octad containing five given positions (the octads form a Steiner system
// S(5,8,24)). `five` must have exactly five bits set below bit 24.
uint32_t octad_through(uint32_t five);

}  // namespace llvq::golay
