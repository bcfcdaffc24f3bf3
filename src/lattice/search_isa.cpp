// The search kernels' ISA level (see search_isa.hpp).
#include "lattice/search_isa.hpp"

namespace llvq::lattice {
namespace {

IsaLevel& level() {
  static IsaLevel l;
  return l;
}

}  // namespace

SearchIsa search_isa() { return level().get(); }

SearchIsaScope::SearchIsaScope(SearchIsa isa) : scope_(level(), isa) {}

}  // namespace llvq::lattice
