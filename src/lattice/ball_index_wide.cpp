// LeechBallIndex: the Λ24(M) index in 128-bit arithmetic (include/llvq/leech_ball_index.hpp).
#include "llvq/leech_ball_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>

#include "lattice/ball_arrangement.hpp"
#include "lattice/direction_scan.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"

namespace llvq {
namespace {

using namespace ball_detail;
using Index = LeechBallIndex::Index;
constexpr int kMaxValue = 32;  // |x_i| ≤ √(16·64) on shells ≤ kMaxShell

// Direction search: the scan starts at the ball's radius √(16·M) and stops at the
// kScanHits-th point of the ball. Measured on 5,000 Gaussian blocks for M = 44
// (docs/voronoi.md): starting 2 beyond the radius gives the same shape error, slower.
constexpr int kScanHits = 9;

void check_max_shell(int max_shell) {
  if (max_shell < LeechBallIndex::kMinShell || max_shell > LeechBallIndex::kMaxShell)
    throw InputError("unsupported max shell " + std::to_string(max_shell) + " for the ball index (supported: " +
                     std::to_string(LeechBallIndex::kMinShell) + ".." + std::to_string(LeechBallIndex::kMaxShell) +
                     ")");
}

}  // namespace

LeechBallIndex::LeechBallIndex(int max_shell) : max_shell_(max_shell) {
  check_max_shell(max_shell);
  shell_start_.assign(static_cast<size_t>(max_shell) + 2, 1);
  shell_start_[0] = 0;
  Index next = 1;  // index 0 is the origin
  for (int m = 2; m <= max_shell; ++m) {
    shell_start_[static_cast<size_t>(m)] = next;
    for (const shells::LeechClass& lc : shells::classes_of_shell(m)) {
      Class c;
      c.leader = lc.leader;
      c.weight = static_cast<uint8_t>(lc.weight);
      c.odd = lc.odd;
      c.offset = next;
      if (class_count(class_indexing(c.leader, c.odd, c.weight)) != lc.size)
        throw std::logic_error("LeechBallIndex: index radices disagree with the class size");
      classes_.push_back(c);
      next += lc.size;
    }
  }
  shell_start_[static_cast<size_t>(max_shell) + 1] = next;
  size_ = next;
  if (size_ != shells::ball_count(max_shell, true))
    throw std::logic_error("LeechBallIndex: class sizes do not add up to the theta series");
  bits_ = shells::ceil_log2(size_);
  by_leader_.resize(classes_.size());
  for (size_t c = 0; c < classes_.size(); ++c) by_leader_[c] = static_cast<uint32_t>(c);
  std::sort(by_leader_.begin(), by_leader_.end(), [this](uint32_t a, uint32_t b) {
    return std::tie(classes_[a].odd, classes_[a].leader) < std::tie(classes_[b].odd, classes_[b].leader);
  });
}

const LeechBallIndex& LeechBallIndex::get(int max_shell) {
  check_max_shell(max_shell);
  static std::mutex mutex;
  static std::array<std::unique_ptr<LeechBallIndex>, kMaxShell + 1> balls;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& ball = balls[static_cast<size_t>(max_shell)];
  if (!ball) ball = std::make_unique<LeechBallIndex>(max_shell);
  return *ball;
}

Index LeechBallIndex::shell_offset(int m) const {
  if (m < 0 || m == 1 || m > max_shell_ + 1) throw InputError("shell " + std::to_string(m) + " out of range");
  return shell_start_[static_cast<size_t>(m)];
}

Index LeechBallIndex::class_offset(size_t c) const {
  if (c > classes_.size()) throw InputError("class " + std::to_string(c) + " out of range");
  return c == classes_.size() ? size_ : classes_[c].offset;
}

size_t LeechBallIndex::find_class(bool odd, const std::array<uint8_t, kDim>& leader) const {
  const auto it = std::lower_bound(by_leader_.begin(), by_leader_.end(), std::tie(odd, leader),
                                   [this](uint32_t c, const auto& key) {
                                     return std::tie(classes_[c].odd, classes_[c].leader) < key;
                                   });
  if (it == by_leader_.end() || classes_[*it].odd != odd || classes_[*it].leader != leader) return classes_.size();
  return *it;
}

leech::Vec LeechBallIndex::unrank(Index index) const {
  if (index >= size_)
    throw InputError("index out of range (Λ24(" + std::to_string(max_shell_) + ") has " + shells::to_decimal(size_) +
                     " points)");
  if (index == 0) return leech::Vec{};
  const auto after = std::upper_bound(classes_.begin(), classes_.end(), index,
                                      [](Index i, const Class& c) { return i < c.offset; });
  const Class& c = *(after - 1);
  return unrank_in_class(class_indexing(c.leader, c.odd, c.weight), index - c.offset);
}

Index LeechBallIndex::rank(const leech::Vec& x) const {
  const PointMasks<kMaxValue> p(x);
  if (p.too_large)
    throw InputError("point is not in Λ24(" + std::to_string(max_shell_) + ") (a coordinate exceeds " +
                     std::to_string(kMaxValue) + ")");
  if (p.is_origin()) return 0;
  const uint32_t msg = p.lattice_message();
  std::array<uint8_t, kDim> leader{};  // the absolute values, non-increasing
  size_t filled = 0;
  for (int a = kMaxValue; a >= 0; --a)
    for (int n = std::popcount(p.value_mask[static_cast<size_t>(a)]); n > 0; --n)
      leader[filled++] = static_cast<uint8_t>(a);
  const size_t ci = find_class(p.odd, leader);
  if (ci == classes_.size())
    throw InputError("point lies on shell " + std::to_string(leech::norm2(x) / 16) + ", outside Λ24(" +
                     std::to_string(max_shell_) + ") = shells 2.." + std::to_string(max_shell_));
  const Class& c = classes_[ci];
  return c.offset + rank_in_class<Index>(class_indexing(c.leader, c.odd, c.weight), p, msg);
}

// Inside the ball every target of norm < √(16·M) − 4 has its nearest point (at most J's
// covering radius 4 away) in the ball, and for M ≥ 5 the scan passes such a target beyond
// norm 4, whose nearest point is not the origin: the scan always finds a point.
leech::Direction LeechBallIndex::search_direction(const float* x) const {
  if (max_shell_ < 5) throw InputError("LeechBallIndex::search_direction: needs a ball of at least 5 shells");
  const int64_t limit = 16 * int64_t{max_shell_};
  const lattice_detail::ScanResult r = lattice_detail::search_direction(
      x, std::sqrt(static_cast<double>(limit)), kScanHits,
      [limit](const leech::Vec& p) { return leech::norm2(p) <= limit; }, "LeechBallIndex::search_direction");
  return leech::Direction{rank(r.point), r.point, r.cosine};
}

}  // namespace llvq
