// Run-time ISA selection, the pack() factory and the whole-matrix drivers.
#include <omp.h>

#include <algorithm>

#include "kernels/kernels_impl.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels {
namespace {

// The kernels' own level (the lattice search keeps another).
IsaLevel& kernel_level() {
  static IsaLevel level;
  return level;
}

int thread_count(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

// Contiguous row ranges, one per thread (at least 4 rows each).
template <class F>
void over_rows(int64_t rows, int threads, F&& f) {
  const int t = static_cast<int>(std::min<int64_t>(thread_count(threads), std::max<int64_t>(rows / 4, 1)));
#pragma omp parallel for num_threads(t) schedule(static)
  for (int k = 0; k < t; ++k) {
    const int64_t r0 = rows * k / t, r1 = rows * (k + 1) / t;
    if (r1 > r0) f(r0, r1);
  }
}

}  // namespace

Isa active_isa() { return kernel_level().get(); }

void set_isa(Isa isa) { kernel_level().set(isa); }

IsaScope::IsaScope(Isa isa) : scope_(kernel_level(), isa) {}

bool has_kernels(const Codec& codec) { return detail::leech_handles(codec) || detail::table_handles(codec); }

std::unique_ptr<PackedMatrix> pack(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows,
                                   int64_t cols) {
  if (rows < 0 || cols <= 0) throw InputError("pack: bad shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  codec.check_row_length(static_cast<size_t>(cols));
  const uint64_t need = (static_cast<uint64_t>(rows) * codec.row_bits(static_cast<size_t>(cols)) + 7) / 8;
  if (size != need)
    throw InputError("pack: " + std::to_string(size) + " code bytes for " + std::to_string(rows) + " rows of " +
                     std::to_string(cols) + " weights of " + codec.spec() + " (expected " + std::to_string(need) + ")");
  if (detail::leech_handles(codec)) return detail::pack_leech(codec, codes, size, rows, cols);
  if (detail::table_handles(codec)) return detail::pack_table(codec, codes, size, rows, cols);
  throw InputError("no kernels for codec " + codec.spec());
}

void decode(const PackedMatrix& m, float* out, int threads) {
  const Isa isa = active_isa();
  over_rows(m.rows(), threads, [&](int64_t r0, int64_t r1) { m.decode_rows(r0, r1, out + r0 * m.cols(), isa); });
}

void gemv(const PackedMatrix& m, const float* x, float* y, int threads) {
  const Isa isa = active_isa();
  over_rows(m.rows(), threads, [&](int64_t r0, int64_t r1) { m.gemv_rows(x, r0, r1, y + r0, isa); });
}

void PackedMatrix::gemm_rows(const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1, float* y, int64_t ldy,
                             Isa isa) const {
  for (int64_t t = 0; t < tokens; ++t) gemv_rows(x + t * ldx, r0, r1, y + t * ldy, isa);
}

void gemm(const PackedMatrix& m, const float* x, int64_t ldx, int64_t tokens, float* y, int threads) {
  if (tokens < 0 || ldx < m.cols()) throw InputError("gemm: bad token count or input stride");
  const Isa isa = active_isa();
  over_rows(m.rows(), threads,
            [&](int64_t r0, int64_t r1) { m.gemm_rows(x, ldx, tokens, r0, r1, y + r0, m.rows(), isa); });
}

}  // namespace llvq::kernels
