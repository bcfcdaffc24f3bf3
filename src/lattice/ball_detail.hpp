// LeechBall's private index and search structures (include/llvq/leech_ball.hpp declares them),
// shared by ball_index.cpp and ball_search.cpp.
#pragma once

#include <array>
#include <cstdint>

#include "lattice/ball_arrangement.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq {

// A non-increasing list of values written as mid + a few deviations: top[k] is added to
// the k-th largest slot, bottom[k] to the k-th smallest; everything else gets mid.
struct LeechBall::Profile {
  double mid = 0;
  int ntop = 0, nbottom = 0;
  std::array<double, leech::kDim> top{}, bottom{};
};

// A non-increasing list v_1..v_n matched against sorted y_(1) ≥ ... ≥ y_(n):
// Σ v_j y_(j) = last·Σy + Σ_k step[k]·T_{cut[k]}, T_t = sum of the t largest y.
struct LeechBall::Cuts {
  int n = 0;
  std::array<uint8_t, leech::kDim> cut{};
  std::array<double, leech::kDim> step{};
  double last = 0;
};

// A class's values on one side (odd: all 24 signed values; even: the ≡2 values on the codeword
// or the ≡0 values off it) as the pieces of the convex function of the coset pruning's dual
// bound (ball_search.cpp, dual_function): the distinct values in decreasing order (`slope`),
// how many slots hold each, and between consecutive pieces the two leader ranks whose inputs,
// in the rearrangement bound's matching, sit on either side of the breakpoint (each with the
// sign its value gives it).
struct LeechBall::Dual {
  int n = 0;
  std::array<double, leech::kDim> slope{};
  std::array<uint8_t, leech::kDim> count{};
  std::array<uint8_t, leech::kDim> upper_rank{}, lower_rank{};
  std::array<int8_t, leech::kDim> upper_sign{}, lower_sign{};
};

// Indexing: odd, weight, on, off, sign_bits, minus_parity (ball_arrangement.hpp).
struct LeechBall::Class : ball_detail::ClassIndexing {
  int shell = 0;
  std::array<uint8_t, leech::kDim> leader{};
  uint64_t offset = 0, size = 0;
  // Search.
  double norm2 = 0, inv_norm = 0;
  int runs = 0;
  std::array<uint8_t, leech::kDim> run_end{};
  std::array<double, leech::kDim> run_value{};
  Profile on_profile, off_profile;  // even only: the values on and off the codeword
  double min_on = 0;                // even: smallest value ≡ 2 mod 4 (parity fix cost)
  // Odd: the signed values over all 24 positions; even: `on_cuts` the ≡2 values over the
  // codeword, `off_cuts` the others over its complement (see Cuts).
  Cuts on_cuts, off_cuts;
  // Odd: `on_dual` over all positions; even: `on_dual` on the codeword, `off_dual` off it.
  Dual on_dual, off_dual;
};

// A class in the search heap.
struct LeechBall::Candidate {
  double objective;  // upper bound on the class's objective
  uint32_t cls;
};

}  // namespace llvq
