#include "llvq/leech.hpp"

#include "llvq/golay.hpp"

namespace llvq::leech {

int64_t norm2(const Vec& x) {
  int64_t s = 0;
  for (int32_t v : x) s += static_cast<int64_t>(v) * v;
  return s;
}

bool is_member(const Vec& x) {
  const bool odd = (x[0] & 1) != 0;
  const int marked_residue = odd ? 3 : 2;  // residue mod 4 whose positions form the codeword
  uint32_t mask = 0;
  int64_t sum = 0;
  for (int i = 0; i < kDim; ++i) {
    if (((x[i] & 1) != 0) != odd) return false;
    if ((x[i] & 3) == marked_residue) mask |= 1u << i;  // & 3 is the residue mod 4 in two's complement
    sum += x[i];
  }
  const int64_t sum_mod8 = ((sum % 8) + 8) % 8;
  return golay::is_codeword(mask) && sum_mod8 == (odd ? 4 : 0);
}

int shell_of(const Vec& x) {
  if (!is_member(x)) return -1;
  return static_cast<int>(norm2(x) / 16);
}

}  // namespace llvq::leech
