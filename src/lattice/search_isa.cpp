// CPU check and LLVQ_ISA override for the search kernels (see search_isa.hpp).
#include "lattice/search_isa.hpp"

#include <atomic>
#include <cstdlib>

#include "llvq/error.hpp"

namespace llvq::lattice {
namespace {

// The flags the *_avx2.cpp / *_avx512.cpp files are compiled with (top-level CMakeLists.txt).
bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
}
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

SearchIsa best_isa() {
  if (cpu_has_avx512()) return SearchIsa::Avx512;
  if (cpu_has_avx2()) return SearchIsa::Avx2;
  return SearchIsa::Scalar;
}

SearchIsa initial_isa() {
  if (const char* env = std::getenv("LLVQ_ISA"); env && *env) {
    for (SearchIsa isa : {SearchIsa::Scalar, SearchIsa::Avx2, SearchIsa::Avx512}) {
      if (to_string(isa) != env) continue;
      if (!cpu_supports(isa)) throw InputError("LLVQ_ISA=" + std::string(env) + ": this CPU does not support it");
      return isa;
    }
    throw InputError("LLVQ_ISA=" + std::string(env) + ": unknown ISA level (expected scalar, avx2 or avx512)");
  }
  return best_isa();
}

std::atomic<int> chosen{-1};  // -1: not chosen yet

}  // namespace

std::string to_string(SearchIsa isa) {
  switch (isa) {
    case SearchIsa::Scalar: return "scalar";
    case SearchIsa::Avx2: return "avx2";
    case SearchIsa::Avx512: return "avx512";
  }
  return "?";
}

bool cpu_supports(SearchIsa isa) {
  switch (isa) {
    case SearchIsa::Scalar: return true;
    case SearchIsa::Avx2: return cpu_has_avx2();
    case SearchIsa::Avx512: return cpu_has_avx512();
  }
  return false;
}

SearchIsa search_isa() {
  int v = chosen.load(std::memory_order_relaxed);
  if (v < 0) {
    const int init = static_cast<int>(initial_isa());
    chosen.compare_exchange_strong(v, init);
    v = chosen.load();
  }
  return static_cast<SearchIsa>(v);
}

SearchIsaScope::SearchIsaScope(SearchIsa isa) : previous_(search_isa()) {
  if (!cpu_supports(isa)) throw InputError("this CPU does not support " + to_string(isa));
  chosen.store(static_cast<int>(isa));
}

SearchIsaScope::~SearchIsaScope() { chosen.store(static_cast<int>(previous_)); }

}  // namespace llvq::lattice
