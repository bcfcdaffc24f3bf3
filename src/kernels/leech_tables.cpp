// Decode tables of the split word (leech_block.hpp) from LeechBall's class structure.
#include "kernels/leech_tables.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq::kernels::leech {
namespace {

int ceil_log2(uint64_t x) { return x <= 1 ? 0 : 64 - std::countl_zero(x - 1); }

// Gives each level of the arrangement its field, from bit `shift` on; returns the next free bit.
int lay_out(const LeechBall::ArrangementInfo& info, ArrangementTable& a, int slots, int shift) {
  if (info.levels > kMaxLevels) throw InputError("Leech kernels: a class has too many arrangement levels");
  a.levels = static_cast<uint8_t>(info.levels);
  a.fill = info.fill;
  a.total = info.total;
  for (int l = 0; l < info.levels; ++l) {
    a.value[l] = info.value[l];
    a.count[l] = info.count[l];
    a.free[l] = static_cast<uint8_t>(slots);
    slots -= info.count[l];
    a.radix[l] = static_cast<uint32_t>(info.radix[l]);
    a.bits[l] = static_cast<uint8_t>(ceil_log2(info.radix[l]));
    a.shift[l] = static_cast<uint8_t>(shift);
    shift += a.bits[l];
  }
  return shift;
}

uint16_t first_of_weight(int weight) {
  uint16_t first = 0;
  for (int w : {0, 8, 12, 16, 24}) {
    if (w == weight) return first;
    first = static_cast<uint16_t>(first + golay::codewords_of_weight(w).size());
  }
  throw std::logic_error("Leech kernels: codeword weight " + std::to_string(weight));
}

// Tables of the split combination rank (leech_block.hpp, unrank_level).
void fill_split_tables(const uint32_t (&binom)[kDim + 1][kDim + 1], BlockTables& t) {
  for (int h = 0; h <= kHalf; ++h)
    for (int j = 0; j <= h; ++j) {
      t.half_binom[h][j] = binom[h][j];
      t.half_recip[h][j] = ((uint64_t{1} << 32) + binom[h][j] - 1) / binom[h][j];
    }
  for (int n = 0; n <= kDim; ++n) {
    const int h = std::min(n, kHalf);
    for (int k = 0; k <= n; ++k) {
      uint32_t first = 0;
      for (int j = 0; j < kSplitsMax; ++j) {
        const bool valid = j <= std::min(k, h);
        t.split_first[n][k][j] = valid ? first : UINT32_MAX;
        if (valid && k - j <= n - h) first += binom[h][j] * binom[n - h][k - j];
      }
    }
  }
  uint16_t next = 0;
  for (int j = 0; j <= kHalf; ++j) {
    t.colex_first[j] = next;
    for (uint32_t m = 0; m < (1u << kHalf); ++m)  // numeric order within a size is colex order
      if (std::popcount(m) == j) t.colex12[next++] = static_cast<uint16_t>(m);
  }
  t.colex_first[kHalf + 1] = next;
}

void fill_class(const LeechBall& ball, size_t k, int gain_bits, ClassTable& c) {
  const LeechBall::ClassInfo info = ball.class_info(k);
  const LeechBall::IndexInfo index = ball.index_info(k);
  c.odd = info.odd;
  c.shell = static_cast<uint8_t>(info.shell);
  c.offset = info.offset;
  c.end = info.offset + info.size;
  c.codewords = index.codewords;
  c.minus_parity = static_cast<uint8_t>(index.minus_parity);
  int shift = kClassBits + gain_bits;
  if (info.odd) {
    c.cw_shift = static_cast<uint8_t>(shift);
    c.cw_bits = 12;
    shift = lay_out(index.on, c.on, kDim, shift + 12);
  } else {
    c.sign_shift = static_cast<uint8_t>(shift);
    c.sign_bits = static_cast<uint8_t>(index.sign_bits);
    shift += index.sign_bits;
    c.cw_shift = static_cast<uint8_t>(shift);
    c.cw_bits = static_cast<uint8_t>(ceil_log2(index.codewords));
    c.cw_base = first_of_weight(index.weight);
    shift = lay_out(index.on, c.on, index.weight, shift + c.cw_bits);
    shift = lay_out(index.off, c.off, kDim - index.weight, shift);
  }
  if (shift > 64)
    throw InputError("Leech kernels: a class of Λ24(" + std::to_string(ball.max_shell()) + ") needs " +
                     std::to_string(shift) + " bits in the split word (64 available)");
}

}  // namespace

std::unique_ptr<BlockTables> make_block_tables(const LeechLayout& params) {
  const LeechBall& ball = LeechBall::get(params.max_shell);
  if (ball.num_classes() + 1 > static_cast<size_t>(kMaxClasses))
    throw InputError("Leech kernels: Λ24(" + std::to_string(params.max_shell) + ") has more classes than class ids");
  if (params.gain_bits < 0 || (1 << params.gain_bits) > kMaxGains)
    throw InputError("Leech kernels: unsupported gain bits " + std::to_string(params.gain_bits));
  auto t = std::make_unique<BlockTables>();  // value-initialised: every table starts at zero
  t->kind = params.kind == LeechLayout::Kind::Ball ? Kind::Ball : Kind::ShapeGain;
  t->gain_bits = params.gain_bits;
  t->num_classes = static_cast<int32_t>(ball.num_classes() + 1);
  t->ball_bits = ball.bits();
  t->ball_size = ball.size();
  t->min_index = params.min_shell >= LeechBall::kMinShell ? ball.shell_offset(params.min_shell) : 0;
  t->lattice_scale = params.lattice_scale;
  const int gains = 1 << params.gain_bits;
  if (t->kind == Kind::ShapeGain && params.gain_levels.size() != static_cast<size_t>(gains))
    throw std::logic_error("Leech kernels: gain levels do not match the gain bits");
  for (int m = 0; m < kMaxShells; ++m) {
    t->sqrt_norm[m] = m == 0 ? 1.0 : std::sqrt(16.0 * m);
    for (int g = 0; g < gains; ++g)
      t->gemv_factor[g][m] = t->kind == Kind::Ball ? static_cast<float>(1.0 / params.lattice_scale)
                                                   : static_cast<float>(params.gain_levels[g] / t->sqrt_norm[m]);
  }
  for (int g = 0; g < gains && t->kind == Kind::ShapeGain; ++g) t->gain_level[g] = params.gain_levels[g];
  uint32_t binom[kDim + 1][kDim + 1] = {};
  for (int n = 0; n <= kDim; ++n) {
    binom[n][0] = 1;
    for (int k = 1; k <= n; ++k) binom[n][k] = binom[n - 1][k - 1] + (k < n ? binom[n - 1][k] : 0);
  }
  for (int j = 0; j <= kDim; ++j)
    for (int e = 0; e < kBinomColumn; ++e) t->binom_column[j][e] = e <= kDim ? binom[e][j] : UINT32_MAX;
  fill_split_tables(binom, *t);
  const auto& all = golay::codewords();
  for (size_t i = 0; i < 4096; ++i) t->golay[i] = all[i];
  size_t next = 0;
  for (int w : {0, 8, 12, 16, 24})
    for (uint32_t word : golay::codewords_of_weight(w)) t->by_weight[next++] = word;
  for (size_t k = 0; k < ball.num_classes(); ++k) {
    fill_class(ball, k, params.gain_bits, t->cls[k + 1]);
    t->class_end[k + 1] = t->cls[k + 1].end;
    const ClassTable& c = t->cls[k + 1];
    t->max_parts = std::max(t->max_parts, c.on.levels + 1 + (c.odd ? 0 : c.off.levels + 1));
  }
  return t;
}

}  // namespace llvq::kernels::leech
