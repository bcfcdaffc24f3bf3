// Run-time ISA level of the exact Λ24(M) search (src/lattice/ball_kernels*.cpp): its own
// IsaLevel (llvq/cpu.hpp), separate from the matrix kernels', with the same LLVQ_ISA override.
#pragma once

#include "llvq/cpu.hpp"

namespace llvq::lattice {

using SearchIsa = ::llvq::Isa;
using ::llvq::cpu_supports;
using ::llvq::to_string;

// LLVQ_ISA when set (InputError for an unknown name or a level this CPU lacks), else the
// highest level the CPU runs; read once.
SearchIsa search_isa();

// The entry for search_isa()'s level among one per level (the kernel tables' choice).
template <class K>
const K& for_search_isa(const K& scalar, const K& avx2, const K& avx512) {
  switch (search_isa()) {
    case SearchIsa::Avx512: return avx512;
    case SearchIsa::Avx2: return avx2;
    case SearchIsa::Scalar: break;
  }
  return scalar;
}

// Forces a level for the lifetime of the scope (tests). Not for concurrent use with searches
// on other threads that expect a particular level; every level gives identical results.
class SearchIsaScope {
 public:
  explicit SearchIsaScope(SearchIsa isa);  // InputError if the CPU lacks it
  SearchIsaScope(const SearchIsaScope&) = delete;
  SearchIsaScope& operator=(const SearchIsaScope&) = delete;

 private:
  IsaLevelScope scope_;
};

}  // namespace llvq::lattice
