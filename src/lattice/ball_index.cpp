// LeechBall construction, rank and unrank (the dense bijective index of Λ24(M)).
#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "lattice/ball_arrangement.hpp"
#include "lattice/ball_detail.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq {
namespace {

using leech::kDim;
using namespace ball_detail;
constexpr int kMaxValue = 16;  // |x_i| ≤ √(16·16) on shells ≤ kMaxShell

// Class lookup key: a base-25 number whose digits are the counts of each absolute value,
// the most common value of each parity (0 for even, 1 for odd) left implicit.
struct KeyWeights {
  std::array<uint64_t, kMaxValue + 1> w{};
  KeyWeights() {
    uint64_t p = 1;
    for (int v = 2; v <= kMaxValue; v += 2) {
      w[v] = p;      // even value v: digit v/2 − 1
      if (v + 1 <= kMaxValue) w[v + 1] = p;  // odd value v+1: digit (v+1−3)/2, same weight
      p *= 25;
    }
  }
};
const KeyWeights& key_weights() {
  static const KeyWeights k;
  return k;
}

std::string shell_range_text(int m) { return "2.." + std::to_string(m); }

void check_max_shell(int max_shell) {
  if (max_shell < LeechBall::kMinShell || max_shell > LeechBall::kMaxShell)
    throw InputError("unsupported max shell " + std::to_string(max_shell) + " (supported: " +
                     std::to_string(LeechBall::kMinShell) + ".." + std::to_string(LeechBall::kMaxShell) + ")");
}

}  // namespace

LeechBall::LeechBall(int max_shell) : max_shell_(max_shell) {
  check_max_shell(max_shell);
  shell_start_.assign(max_shell + 2, 1);
  shell_first_class_.assign(max_shell + 2, 0);
  shell_start_[0] = 0;
  uint64_t next = 1;  // index 0 is the origin
  for (int m = 2; m <= max_shell; ++m) {
    shell_start_[m] = next;
    shell_first_class_[m] = static_cast<uint32_t>(classes_.size());
    for (const shells::LeechClass& lc : shells::classes_of_shell(m)) {
      add_class(lc, next);
      next += static_cast<uint64_t>(lc.size);
      class_end_.push_back(next);
    }
  }
  shell_start_[max_shell + 1] = next;
  shell_first_class_[max_shell + 1] = static_cast<uint32_t>(classes_.size());
  size_ = next;
  if (shells::u128{size_} != shells::ball_count(max_shell, true))
    throw std::logic_error("LeechBall: class sizes do not add up to the theta series");
  bits_ = shells::ceil_log2(size_);
  for (const Class& c : classes_) {
    bound_first_.push_back(static_cast<uint32_t>(bound_runs_.size()));
    for (int r = 0; r < c.runs; ++r) bound_runs_.emplace_back(c.run_end[r], c.run_value[r]);
    bound_norm_.emplace_back(c.norm2, c.inv_norm);
  }
  bound_first_.push_back(static_cast<uint32_t>(bound_runs_.size()));
  std::sort(even_keys_.begin(), even_keys_.end());
  std::sort(odd_keys_.begin(), odd_keys_.end());
}

const LeechBall& LeechBall::get(int max_shell) {
  check_max_shell(max_shell);
  static std::mutex mutex;
  static std::array<std::unique_ptr<LeechBall>, kMaxShell + 1> balls;
  std::lock_guard<std::mutex> lock(mutex);
  if (!balls[max_shell]) balls[max_shell] = std::make_unique<LeechBall>(max_shell);
  return *balls[max_shell];
}

namespace {

// Mid value = the most frequent one; the others become deviations at the top or bottom.
template <class Prof>
Prof make_profile(const std::vector<double>& desc) {
  Prof p;
  if (desc.empty()) return p;
  std::map<double, int> counts;
  for (double v : desc) ++counts[v];
  p.mid = std::max_element(counts.begin(), counts.end(),
                           [](const auto& x, const auto& y) { return x.second < y.second; })
              ->first;
  for (double v : desc)
    if (v > p.mid) p.top[p.ntop++] = v - p.mid;
  for (auto it = desc.rbegin(); it != desc.rend(); ++it)
    if (*it < p.mid) p.bottom[p.nbottom++] = *it - p.mid;
  return p;
}

// Σ_j v_j y_(j) = v_n·T_n + Σ_{t<n} (v_t − v_{t+1})·T_t, T_t = sum of the t largest y.
template <class C>
C make_cuts(const std::vector<double>& desc) {
  C c;
  if (desc.empty()) return c;
  c.last = desc.back();
  for (size_t t = 1; t < desc.size(); ++t) {
    if (desc[t - 1] == desc[t]) continue;
    c.cut[c.n] = static_cast<uint8_t>(t);
    c.step[c.n++] = desc[t - 1] - desc[t];
  }
  return c;
}

// The dual pieces (LeechBall::Dual) of the values at leader ranks `ranks` with signs `signs`,
// listed in the rearrangement bound's matching order: values non-increasing along `ranks`.
template <class D>
D make_dual(const std::array<uint8_t, kDim>& leader, const std::vector<int>& ranks, const std::vector<int>& signs) {
  D d;
  for (size_t e = 0; e < ranks.size(); ++e) {
    const double value = signs[e] * static_cast<double>(leader[ranks[e]]);
    if (d.n > 0 && d.slope[d.n - 1] == value) {
      ++d.count[d.n - 1];
      continue;
    }
    if (d.n > 0) {
      if (value > d.slope[d.n - 1]) throw std::logic_error("LeechBall: dual values not decreasing");
      d.upper_rank[d.n - 1] = static_cast<uint8_t>(ranks[e - 1]);
      d.upper_sign[d.n - 1] = static_cast<int8_t>(signs[e - 1]);
      d.lower_rank[d.n - 1] = static_cast<uint8_t>(ranks[e]);
      d.lower_sign[d.n - 1] = static_cast<int8_t>(signs[e]);
    }
    d.slope[d.n] = value;
    d.count[d.n++] = 1;
  }
  return d;
}

}  // namespace

void LeechBall::add_class(const shells::LeechClass& lc, uint64_t offset) {
  Class c;
  static_cast<ClassIndexing&>(c) = class_indexing(lc.leader, lc.odd, lc.weight);
  c.shell = lc.shell;
  c.leader = lc.leader;
  c.offset = offset;
  c.size = static_cast<uint64_t>(lc.size);  // < 2^52 for M ≤ kMaxShell
  if (class_count(c) != lc.size) throw std::logic_error("LeechBall: index radices disagree with the class size");
  c.norm2 = 16.0 * lc.shell;
  c.inv_norm = 1.0 / std::sqrt(c.norm2);
  for (int i = 0; i < kDim; ++i) {
    if (c.runs > 0 && c.run_value[c.runs - 1] == lc.leader[i]) {
      c.run_end[c.runs - 1] = static_cast<uint8_t>(i + 1);
    } else {
      c.run_value[c.runs] = lc.leader[i];
      c.run_end[c.runs++] = static_cast<uint8_t>(i + 1);
    }
  }
  uint64_t key = 0;
  for (int v : lc.leader) key += key_weights().w[v];
  if (c.odd) {
    // Signed values: +a for a ≡ 3 mod 4, −a for a ≡ 1 mod 4 (see ball_search.cpp).
    std::vector<double> signed_values;
    for (int v : lc.leader) signed_values.push_back(v % 4 == 3 ? v : -v);
    std::sort(signed_values.begin(), signed_values.end(), std::greater<>());
    c.on_cuts = make_cuts<Cuts>(signed_values);
    // The rearrangement bound gives the k-th largest |x| to leader rank k with the value's
    // sign: positive values (≡ 3) by increasing rank, then negative ones by decreasing rank.
    std::vector<int> ranks, signs;
    for (int k = 0; k < kDim; ++k)
      if (lc.leader[k] % 4 == 3) ranks.push_back(k), signs.push_back(1);
    for (int k = kDim - 1; k >= 0; --k)
      if (lc.leader[k] % 4 == 1) ranks.push_back(k), signs.push_back(-1);
    c.on_dual = make_dual<Dual>(lc.leader, ranks, signs);
    odd_keys_.emplace_back(key, static_cast<uint32_t>(classes_.size()));
  } else {
    const EvenSplit split = split_even(lc.leader);
    const std::vector<double> on(split.on.begin(), split.on.end()), off(split.off.begin(), split.off.end());
    c.on_profile = make_profile<Profile>(on);
    c.off_profile = make_profile<Profile>(off);
    c.min_on = on.empty() ? 0 : on.back();
    c.on_cuts = make_cuts<Cuts>(on);
    c.off_cuts = make_cuts<Cuts>(off);
    std::vector<int> on_ranks, off_ranks;
    for (int k = 0; k < kDim; ++k) (lc.leader[k] % 4 == 2 ? on_ranks : off_ranks).push_back(k);
    c.on_dual = make_dual<Dual>(lc.leader, on_ranks, std::vector<int>(on_ranks.size(), 1));
    c.off_dual = make_dual<Dual>(lc.leader, off_ranks, std::vector<int>(off_ranks.size(), 1));
    even_keys_.emplace_back(key, static_cast<uint32_t>(classes_.size()));
  }
  classes_.push_back(c);
}

LeechBall::~LeechBall() = default;

size_t LeechBall::num_classes() const { return classes_.size(); }

LeechBall::ClassInfo LeechBall::class_info(size_t c) const {
  const Class& k = classes_.at(c);
  return {k.shell, k.odd, k.leader, k.offset, k.size};
}

LeechBall::IndexInfo LeechBall::index_info(size_t c) const {
  const Class& k = classes_.at(c);
  IndexInfo info;
  info.weight = k.weight;
  info.sign_bits = k.sign_bits;
  info.minus_parity = k.minus_parity;
  info.codewords = k.odd ? 4096 : golay::codewords_of_weight(k.weight).size();
  info.on = k.on;
  info.off = k.off;
  return info;
}

uint64_t LeechBall::shell_offset(int m) const {
  if (m < 0 || m > max_shell_ + 1) throw InputError("shell " + std::to_string(m) + " out of range");
  return shell_start_[m];
}

size_t LeechBall::find_class(bool odd, uint64_t key) const {
  const auto& keys = odd ? odd_keys_ : even_keys_;
  const auto it = std::lower_bound(keys.begin(), keys.end(), std::make_pair(key, uint32_t{0}));
  if (it == keys.end() || it->first != key) return classes_.size();
  return it->second;
}

leech::Vec LeechBall::unrank(uint64_t index) const {
  if (index >= size_)
    throw InputError("index " + std::to_string(index) + " out of range (Λ24(" + std::to_string(max_shell_) +
                     ") has " + std::to_string(size_) + " points)");
  if (index == 0) return leech::Vec{};
  const size_t ci = std::upper_bound(class_end_.begin(), class_end_.end(), index) - class_end_.begin();
  const Class& c = classes_[ci];
  return unrank_in_class(c, index - c.offset);
}

uint64_t LeechBall::rank(const leech::Vec& x) const {
  const PointMasks<kMaxValue> p(x, key_weights().w.data());
  if (p.too_large)
    throw InputError("point is not in Λ24(" + std::to_string(max_shell_) + ") (a coordinate exceeds 16)");
  if (p.is_origin()) return 0;
  const uint32_t msg = p.lattice_message();
  const size_t ci = find_class(p.odd, p.key);
  if (ci == classes_.size())
    throw InputError("point lies on shell " + std::to_string(leech::norm2(x) / 16) + ", outside Λ24(" +
                     std::to_string(max_shell_) + ") = shells " + shell_range_text(max_shell_));
  const Class& c = classes_[ci];
  return c.offset + rank_in_class<uint64_t>(c, p, msg);
}

}  // namespace llvq
