// Run-time ISA selection, the pack() factory and the whole-matrix drivers.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "kernels/kernels_impl.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels {
namespace {

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") &&
         __builtin_cpu_supports("f16c");
}
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

// -1: not chosen yet (LLVQ_ISA or best_isa() on first use).
std::atomic<int> chosen{-1};

Isa initial_isa() {
  if (const char* env = std::getenv("LLVQ_ISA"); env && *env) {
    const Isa wanted = parse_isa(env);
    if (!cpu_supports(wanted)) throw InputError("LLVQ_ISA=" + std::string(env) + ": this CPU does not support it");
    return wanted;
  }
  return best_isa();
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

std::string to_string(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

Isa parse_isa(const std::string& text) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (text == to_string(isa)) return isa;
  throw InputError("unknown ISA level '" + text + "' (expected scalar, avx2 or avx512)");
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return cpu_has_avx2();
    case Isa::Avx512: return cpu_has_avx512();
  }
  return false;
}

Isa best_isa() {
  if (cpu_supports(Isa::Avx512)) return Isa::Avx512;
  if (cpu_supports(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

Isa active_isa() {
  int v = chosen.load();
  if (v < 0) {
    const int init = static_cast<int>(initial_isa());
    chosen.compare_exchange_strong(v, init);
    v = chosen.load();
  }
  return static_cast<Isa>(v);
}

void set_isa(Isa isa) {
  if (!cpu_supports(isa)) throw InputError("this CPU does not support " + to_string(isa));
  chosen.store(static_cast<int>(isa));
}

IsaScope::IsaScope(Isa isa) : previous_(active_isa()) { set_isa(isa); }
IsaScope::~IsaScope() { chosen.store(static_cast<int>(previous_)); }

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

}  // namespace llvq::kernels
