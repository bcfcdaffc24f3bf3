// Placeholder until the Leech kernel family lands: no codec is handled.
#include "kernels/kernels_impl.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels::detail {
bool leech_handles(const Codec&) { return false; }
std::unique_ptr<PackedMatrix> pack_leech(const Codec&, const uint8_t*, size_t, int64_t, int64_t) {
  throw InputError("Leech kernels are not built");
}
}  // namespace llvq::kernels::detail
