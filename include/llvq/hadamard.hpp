// Randomized Hadamard transforms for incoherence processing (QuIP#/LLVQ style).
//
// For a size n = a·b, with a a power of two, the transform is Q = (H_a ⊗ B)·D / √a where
// H_a is the Sylvester–Hadamard matrix (applied by the fast Walsh–Hadamard transform), B an
// orthogonal b×b factor and D a seeded random ±1 diagonal. Q is orthogonal, so a layer
// y = W·x is unchanged when W ← W·Qᵀ... (see `transform_weight_input`) and x ← Q·x.
// The factor B is chosen as:
//  * b = 1 when n is a power of two (pure fast Walsh–Hadamard);
//  * a Paley (type I) Hadamard matrix of size q+1, scaled by 1/√(q+1), when n = 2^j·(q+1)
//    for a prime q ≡ 3 (mod 4) with q+1 ≤ 256 (e.g. 12, 20, 24, 44, ...);
//  * otherwise a seeded random orthogonal matrix (QR of a Gaussian matrix) of size n/2^k,
//    the odd part of n (e.g. 43 for 172 = 4·43, 11008 = 256·43).
// Everything is built from (n, seed) at run time; nothing is tabulated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llvq {

// In-place unnormalised fast Walsh–Hadamard transform; n must be a power of two.
void fwht(float* x, size_t n);
void fwht(double* x, size_t n);

class RandomizedHadamard {
 public:
  RandomizedHadamard(size_t n, uint64_t seed);
  size_t size() const { return n_; }
  uint64_t seed() const { return seed_; }
  // Human-readable construction, e.g. "H64", "H4 x paley12", "H4 x orth43".
  std::string construction() const;
  void apply(float* x) const;            // x ← Q·x
  void apply_transpose(float* x) const;  // x ← Qᵀ·x
  // The same with the b×b factor's product summed in float instead of double: within ~10^-6
  // of apply() (float's rounding per term of an orthogonal factor) and 1.5–2.4× faster, for
  // the activations of inference; weights and Hessians take apply(), whose bits files depend on.
  void apply_float(float* x) const;
  void apply_transpose_float(float* x) const;

 private:
  void apply_small_factor(float* x, bool transpose) const;
  void apply_small_factor_float(float* x, bool transpose) const;
  template <size_t V>
  void output_chunk(const float* row, const float* coef, size_t stride, size_t j0, float* out) const;
  size_t padded_b() const { return (b_ + 15) / 16 * 16; }
  void apply_power_of_two(float* x) const;

  size_t n_, a_, b_;
  uint64_t seed_;
  std::string small_kind_;      // "", "paley" or "orth"
  // b×b row-major orthogonal factor (empty when b = 1): float values, held in double for the
  // product apply() computes. For apply_float: the same in float, its transpose, and both with
  // rows padded with zeros to a multiple of 16 entries (padded_b()).
  std::vector<double> small_;
  std::vector<float> small_f_, small_t_, small_pad_, small_t_pad_;
  std::vector<float> signs_;    // D
};

// Hadamard matrix of size q+1 by Paley's first construction (q prime, q ≡ 3 mod 4),
// entries ±1, rows mutually orthogonal. Throws std::invalid_argument for other q.
std::vector<int8_t> paley_hadamard(int q);

}  // namespace llvq
