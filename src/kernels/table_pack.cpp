// Placeholder until the E8P / scalar kernel family lands: no codec is handled.
#include "kernels/kernels_impl.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels::detail {
bool table_handles(const Codec&) { return false; }
std::unique_ptr<PackedMatrix> pack_table(const Codec&, const uint8_t*, size_t, int64_t, int64_t) {
  throw InputError("table kernels are not built");
}
}  // namespace llvq::kernels::detail
