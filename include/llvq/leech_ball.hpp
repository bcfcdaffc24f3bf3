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

namespace lattice {  // the search kernels' jobs (src/lattice/ball_kernels.hpp)
struct Scan;
struct ScanBest;
}  // namespace lattice

class LeechBall {
 public:
  static constexpr int kMinShell = 2;
  // Largest supported M: every |x_i| then stays ≤ 16, which the class lookup key relies on.
  static constexpr int kMaxShell = 16;

  explicit LeechBall(int max_shell);  // kMinShell ≤ M ≤ kMaxShell, InputError otherwise
  ~LeechBall();
  LeechBall(const LeechBall&) = delete;
  LeechBall& operator=(const LeechBall&) = delete;
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
  size_t num_classes() const;
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
  // The index and search structures (src/lattice/ball_detail.hpp, ball_search_context.hpp).
  // An Arrangement is what index_info() returns per level list.
  using Arrangement = ArrangementInfo;
  struct Profile;
  struct Cuts;
  struct Dual;
  struct Class;
  struct Context;
  struct Candidate;

  void add_class(const shells::LeechClass& lc, uint64_t offset);
  size_t find_class(bool odd, uint64_t key) const;

  Result search(const float* x, bool angular, double scale, int lo, int hi) const;
  // The class's scan `job` over the cosets whose bound reaches its floor, after walking the
  // rows it reads to depth[0] (odd; even: on the codeword) and depth[1] (even: off it).
  lattice::ScanBest scan_cosets(const Class& c, Context& ctx, lattice::Scan& job, std::array<int, 2> depth) const;
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
  // Every search bounds every class: the classes' runs (end, value) packed contiguously,
  // class c's at [bound_first_[c], bound_first_[c + 1]), and their (|v|², 1/|v|), instead of
  // read from the ~2 KB Class.
  std::vector<uint32_t> bound_first_;
  std::vector<std::pair<uint8_t, double>> bound_runs_;
  std::vector<std::pair<double, double>> bound_norm_;
};

}  // namespace llvq
