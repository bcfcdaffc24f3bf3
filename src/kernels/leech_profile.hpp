// Per-stage cost of the Leech block decode, for `llvq bench leech-decode`.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernels/leech_block.hpp"

namespace llvq::kernels::leech {

// Cumulative stages: each runs everything before it too, so a stage's own cost is its time
// minus the previous one's. The minimal path starts from (gain, ball index), the split path
// from the split word.
enum Stage : int {
  kClassLookup = 0,      // minimal: class of the index (binary search over class ends)
  kRadixSplit,           // minimal: + mixed-radix digits (divisions) → split word
  kMinimalMasks,         // minimal: + codeword, colex arrangement unrank, signs (point as masks)
  kMinimalFloat,         // minimal: + factor and 24 floats out
  kMinimalDot,           // minimal: lattice point, then factor·⟨v, x⟩ instead of floats
  kSplitMagnitudes,      // split: codeword and arrangement unrank
  kSplitSigns,           // split: + signs → lattice point
  kSplitFloat,           // split: + factor and 24 floats out
  kSplitDot,             // split: lattice point, then factor·⟨v, x⟩
  kNumStages
};
// Seconds per stage over n blocks of split words `words` = leech_split(gain 0, indices) (best of `repeats`), with the AVX2 build of the block
// decode (BMI2 pdep). `now` is a wall clock in seconds; x has 24·n entries, out too.
void profile_stages_avx2(const BlockTables& t, const uint64_t* indices, const uint64_t* words,
                         const float* x, size_t n, int repeats, double (*now)(), float* out, double* seconds);

}  // namespace llvq::kernels::leech
