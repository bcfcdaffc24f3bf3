// Run-time CPU levels for the SIMD code (files *_avx2.cpp / *_avx512.cpp, compiled for that
// level only): which levels this CPU runs, and the LLVQ_ISA=scalar|avx2|avx512 override that
// forces one. Each subsystem with SIMD code (the matrix kernels, the lattice search) keeps its
// own IsaLevel, so tests can force one without touching the other.
#pragma once

#include <atomic>
#include <string>

namespace llvq {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };
std::string to_string(Isa isa);
Isa parse_isa(const std::string& text);  // "scalar" | "avx2" | "avx512"; InputError otherwise
// The features the SIMD files are compiled with (top-level CMakeLists.txt): AVX2 = AVX2, FMA,
// BMI2, F16C; AVX-512 = that plus F, BW, VL, DQ.
bool cpu_supports(Isa isa);
Isa best_isa();  // the highest level this CPU runs
// Whether 512-bit gathers pipeline well enough for gather-based kernels: Intel cores; AMD's
// Zen cores split them into many micro-ops (the eight-block Leech GEMV, which gathers, ran
// 10–30% slower than the one-block kernel on a Zen 4; docs/kernels-leech.md).
bool cpu_gathers_fast();
// LLVQ_ISA when set (InputError for an unknown name or a level this CPU lacks), else best_isa().
Isa isa_from_environment();

// A subsystem's level: isa_from_environment() on first use, then what set() chose.
class IsaLevel {
 public:
  Isa get();
  void set(Isa isa);  // InputError for a level this CPU lacks

 private:
  std::atomic<int> chosen_{-1};  // -1: not chosen yet
};

// Sets `level` for the lifetime of the scope and restores the previous level (tests).
class IsaLevelScope {
 public:
  IsaLevelScope(IsaLevel& level, Isa isa);
  ~IsaLevelScope();
  IsaLevelScope(const IsaLevelScope&) = delete;
  IsaLevelScope& operator=(const IsaLevelScope&) = delete;

 private:
  IsaLevel& level_;
  Isa previous_;
};

}  // namespace llvq
