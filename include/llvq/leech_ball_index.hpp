// The dense bijective index of Λ24(M) for balls too large for LeechBall's 64-bit index and
// search tables: M up to shells::kMaxClassShell (64), 128-bit indices. Same order as
// LeechBall (origin, then shells 2..M, classes in shells::classes_of_shell() order, the same
// mixed-radix number inside a class), so both give the same index wherever both exist.
// No exact search: search_direction is the radius scan of the shape–gain codes. Per class it
// keeps the leader, weight and offset (48 bytes) and rebuilds the arrangements on each call.
// All const methods are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "llvq/leech.hpp"
#include "llvq/leech_shells.hpp"

namespace llvq {

class LeechBallIndex {
 public:
  using Index = unsigned __int128;
  static constexpr int kMinShell = 2;
  static constexpr int kMaxShell = shells::kMaxClassShell;

  explicit LeechBallIndex(int max_shell);  // kMinShell ≤ M ≤ kMaxShell, InputError otherwise
  // Shared instance per M, built on first use (thread-safe).
  static const LeechBallIndex& get(int max_shell);

  int max_shell() const { return max_shell_; }
  Index size() const { return size_; }
  int bits() const { return bits_; }
  size_t num_classes() const { return classes_.size(); }
  // Index of the first point of shell m (m = 0 or 2..M+1; M+1 gives size()).
  Index shell_offset(int m) const;
  // Index of the first point of class c (c ≤ num_classes(); num_classes() gives size()).
  Index class_offset(size_t c) const;

  Index rank(const leech::Vec& v) const;   // InputError if v ∉ Λ24(M)
  leech::Vec unrank(Index index) const;    // InputError if index ≥ size()

  // A non-zero point v of the ball with a large ⟨x,v⟩/|v|: the best angle among the nearest
  // lattice points of ρ·x/|x| that lie in the ball, ρ stepping down from the ball's radius
  // (docs/voronoi.md). Approximate, deterministic; zero input gets a fixed
  // direction and cosine 0; InputError for non-finite input or M < 5.
  leech::Direction search_direction(const float* x) const;

 private:
  struct Class {
    std::array<uint8_t, leech::kDim> leader{};
    uint8_t weight = 0;
    bool odd = false;
    Index offset = 0;
  };
  size_t find_class(bool odd, const std::array<uint8_t, leech::kDim>& leader) const;

  int max_shell_;
  Index size_ = 0;
  int bits_ = 0;
  std::vector<Class> classes_;
  std::vector<Index> shell_start_;  // m = 0..M+1
  std::vector<uint32_t> by_leader_;  // class numbers sorted by (odd, leader)
};

}  // namespace llvq
