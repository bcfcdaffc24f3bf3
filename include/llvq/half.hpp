// IEEE-754 binary16 (fp16) and bfloat16 conversions. Narrowing rounds to nearest, ties to
// even, as numpy, PyTorch and ggml do, so files we write match what those tools write.
#pragma once

#include <cstdint>

namespace llvq {

float fp16_to_float(uint16_t h);
uint16_t float_to_fp16(float f);  // overflow → ±inf, NaN stays NaN
float bf16_to_float(uint16_t b);
uint16_t float_to_bf16(float f);  // NaN stays NaN

}  // namespace llvq
