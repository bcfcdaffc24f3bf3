// Run-time ISA level of the exact Λ24(M) search (src/lattice/ball_kernels*.cpp). The lattice
// layer sits below src/kernels, so it has its own small CPU check; it honours the same
// LLVQ_ISA=scalar|avx2|avx512 override as the matrix kernels.
#pragma once

#include <string>

namespace llvq::lattice {

enum class SearchIsa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

std::string to_string(SearchIsa isa);
bool cpu_supports(SearchIsa isa);
// LLVQ_ISA when set (InputError for an unknown name or a level this CPU lacks), else the
// highest level the CPU runs; read once.
SearchIsa search_isa();

// Forces a level for the lifetime of the scope (tests). Not for concurrent use with searches
// on other threads that expect a particular level; every level gives identical results.
class SearchIsaScope {
 public:
  explicit SearchIsaScope(SearchIsa isa);  // InputError if the CPU lacks it
  ~SearchIsaScope();
  SearchIsaScope(const SearchIsaScope&) = delete;
  SearchIsaScope& operator=(const SearchIsaScope&) = delete;

 private:
  SearchIsa previous_;
};

}  // namespace llvq::lattice
