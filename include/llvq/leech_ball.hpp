// Λ24(M): the origin and the Leech lattice shells 2..M, in integer coordinates √8·Λ24,
// with a dense bijective index and exact searches (docs/background.md §1, docs/lattice.md).
//
// Index layout: 0 is the origin, then shell 2, 3, ..., M; inside a shell the classes of
// shells::classes_of_shell() in that order; inside a class a mixed-radix number made of
// the Golay codeword, the arrangement of the leader's values and the free signs. Tables are
// per class (a few hundred classes), built once; nothing grows with the number of points.
// All const methods are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "llvq/leech.hpp"
#include "llvq/leech_shells.hpp"

namespace llvq {

class LeechBall {
 public:
  static constexpr int kMinShell = 2;
  // Largest supported M: every |x_i| then stays ≤ 16, which the class lookup key relies on.
  static constexpr int kMaxShell = 16;

  explicit LeechBall(int max_shell);  // kMinShell ≤ M ≤ kMaxShell, InputError otherwise
  // Shared instance per M, built on first use (thread-safe).
  static const LeechBall& get(int max_shell);

  int max_shell() const { return max_shell_; }
  uint64_t size() const { return size_; }
  int bits() const { return bits_; }

  uint64_t rank(const leech::Vec& v) const;  // InputError if v ∉ Λ24(M)
  leech::Vec unrank(uint64_t index) const;   // InputError if index ≥ size()

  struct Result {
    uint64_t index;
    leech::Vec point;
    double score;
  };
  // max <x,v>/|v| over v ≠ 0; score = that value. Ties: the first point found wins.
  Result search_angular(const float* x) const;
  // min |scale·x − v|² over Λ24(M) (origin included), v in integer coordinates; score = that
  // distance². scale must be finite and > 0.
  Result search_euclidean(const float* x, double scale) const;
  // Restricted to shells lo..hi (2 ≤ hi ≤ M). Shell 0 is the origin, which only the
  // Euclidean search can return; lo = 0 includes it, lo = 1 is the same as lo = 2.
  Result search_angular(const float* x, int min_shell, int max_shell) const;
  Result search_euclidean(const float* x, double scale, int min_shell, int max_shell) const;

  // Class table, for tests and documentation.
  struct ClassInfo {
    int shell;
    bool odd;
    std::array<uint8_t, leech::kDim> leader;
    uint64_t offset;  // index of the class's first point
    uint64_t size;
  };
  size_t num_classes() const { return classes_.size(); }
  ClassInfo class_info(size_t c) const;
  // Index of the first point of shell m (m = 0 or 2..M+1; M+1 gives size()).
  uint64_t shell_offset(int m) const;

  // Index structure of a class, read-only, for decode kernels that re-lay the index out. An
  // arrangement spreads `levels` values over a slot mask, level l picking count[l] of the
  // still-free slots (colex rank, radix[l] = C(free, count[l])); `fill` takes the rest. The
  // in-class index is message + 4096·(on rank) for odd classes, and
  // signs + 2^sign_bits·(off rank + off.total·(on rank + on.total·codeword)) for even ones,
  // codeword being the position in golay::codewords_of_weight(weight).
  struct ArrangementInfo {
    int levels = 0;
    std::array<uint8_t, leech::kDim> value{}, count{};
    std::array<uint64_t, leech::kDim> radix{};
    uint8_t fill = 0;
    uint64_t total = 1;
  };
  struct IndexInfo {
    int weight = 0;  // codeword weight (even classes); 24 for odd classes
    int sign_bits = 0;
    int minus_parity = 0;
    uint64_t codewords = 1;
    ArrangementInfo on, off;  // odd classes: `on` covers all 24 positions, `off` is empty
  };
  IndexInfo index_info(size_t c) const;

 private:
  // A multiset of values spread over the positions of a slot mask, ranked as a sequence of
  // combinations: level l picks the positions of value[l] among the still-free slots
  // (colex rank, radix C(free, count[l])); the last value fills what is left.
  struct Arrangement {
    int levels = 0;
    std::array<uint8_t, leech::kDim> value{};
    std::array<uint8_t, leech::kDim> count{};
    std::array<uint64_t, leech::kDim> radix{};
    uint8_t fill = 0;
    uint64_t total = 1;
  };
  // A non-increasing list of values written as mid + a few deviations: top[k] is added to
  // the k-th largest slot, bottom[k] to the k-th smallest; everything else gets mid.
  struct Profile {
    double mid = 0;
    int ntop = 0, nbottom = 0;
    std::array<double, leech::kDim> top{}, bottom{};
  };
  // A non-increasing list v_1..v_n matched against sorted y_(1) ≥ ... ≥ y_(n):
  // Σ v_j y_(j) = last·Σy + Σ_k step[k]·T_{cut[k]}, T_t = sum of the t largest y.
  struct Cuts {
    int n = 0;
    std::array<uint8_t, leech::kDim> cut{};
    std::array<double, leech::kDim> step{};
    double last = 0;
  };
  struct Class {
    int shell = 0;
    bool odd = false;
    int weight = 0;  // codeword weight (even); 24 (odd)
    std::array<uint8_t, leech::kDim> leader{};
    uint64_t offset = 0, size = 0;
    // Indexing. Even: `on` = values ≡ 2 mod 4 over the codeword, `off` = the others over
    // its complement. Odd: `on` = all values over all 24 positions.
    Arrangement on, off;
    int sign_bits = 0;
    int minus_parity = 0;  // even: required parity of minus signs on the codeword
    uint64_t codewords = 1;
    // Search.
    double norm2 = 0, inv_norm = 0;
    int runs = 0;
    std::array<uint8_t, leech::kDim> run_end{};
    std::array<double, leech::kDim> run_value{};
    Profile on_profile, off_profile;  // odd: on_profile holds the signed values (see .cpp)
    double min_on = 0;                // even: smallest value ≡ 2 mod 4 (parity fix cost)
    // Odd: the signed values over all 24 positions; even: `on_cuts` the ≡2 values over the
    // codeword, `off_cuts` the others over its complement (see Cuts).
    Cuts on_cuts, off_cuts;
  };
  struct Context;
  struct Candidate {
    double objective;  // upper bound on the class's objective
    uint32_t cls;
  };

  void add_class(const shells::LeechClass& lc, uint64_t offset);
  leech::Vec unrank_even(const Class& c, uint64_t in_class) const;
  leech::Vec unrank_odd(const Class& c, uint64_t in_class) const;
  uint64_t rank_arrangement(const Arrangement& a, uint32_t slots,
                            const std::array<uint32_t, 17>& value_mask) const;
  void unrank_arrangement(const Arrangement& a, uint32_t slots, uint64_t r, leech::Vec& abs) const;
  size_t find_class(bool odd, uint64_t key) const;

  Result search(const float* x, bool angular, double scale, int lo, int hi) const;
  // Bound on <x,v> over a class's codewords as a function of one codeword statistic.
  struct ConcaveBound;
  ConcaveBound codeword_bound(const Class& c, Context& ctx) const;
  // Exact max <x,v> over the class, considering only codewords that may exceed `floor`
  // (returns -inf when none does).
  double best_even(const Class& c, Context& ctx, double floor, uint32_t& codeword) const;
  double best_odd(const Class& c, Context& ctx, double floor, uint32_t& codeword) const;
  leech::Vec point_of(const Class& c, uint32_t codeword, const Context& ctx) const;

  int max_shell_;
  uint64_t size_ = 0;
  int bits_ = 0;
  std::vector<Class> classes_;
  std::vector<uint64_t> class_end_;   // exclusive end index of each class
  std::vector<uint64_t> shell_start_; // index of shell m's first point, m = 0..M+1
  std::vector<uint32_t> shell_first_class_;  // m = 0..M+1
  std::vector<std::pair<uint64_t, uint32_t>> even_keys_, odd_keys_;  // sorted (key, class)
};

}  // namespace llvq
