#include "llvq/cpu.hpp"

#include <cstdlib>

#include "llvq/error.hpp"

namespace llvq {
namespace {

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") &&
         __builtin_cpu_supports("f16c");
}
bool cpu_has_avx512() {
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
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

bool cpu_gathers_fast() {
  __builtin_cpu_init();
  return __builtin_cpu_is("intel");
}

Isa best_isa() {
  if (cpu_supports(Isa::Avx512)) return Isa::Avx512;
  if (cpu_supports(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

Isa isa_from_environment() {
  const char* env = std::getenv("LLVQ_ISA");
  if (!env || !*env) return best_isa();
  Isa wanted;
  try {
    wanted = parse_isa(env);
  } catch (const InputError& e) {
    throw InputError(std::string("LLVQ_ISA: ") + e.what());
  }
  if (!cpu_supports(wanted)) throw InputError("LLVQ_ISA=" + std::string(env) + ": this CPU does not support it");
  return wanted;
}

Isa IsaLevel::get() {
  int v = chosen_.load();
  if (v < 0) {
    const int init = static_cast<int>(isa_from_environment());
    chosen_.compare_exchange_strong(v, init);
    v = chosen_.load();
  }
  return static_cast<Isa>(v);
}

void IsaLevel::set(Isa isa) {
  if (!cpu_supports(isa)) throw InputError("this CPU does not support " + to_string(isa));
  chosen_.store(static_cast<int>(isa));
}

IsaLevelScope::IsaLevelScope(IsaLevel& level, Isa isa) : level_(level), previous_(level.get()) { level.set(isa); }
IsaLevelScope::~IsaLevelScope() { level_.set(previous_); }

}  // namespace llvq
