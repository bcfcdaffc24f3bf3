// The parts of the extension module llvq._core, one per area of the library. The public,
// documented API is the Python package around it (python/llvq/).
#pragma once

#include <nanobind/nanobind.h>

namespace llvq::py {

void bind_lattice(nanobind::module_& m);  // LeechBall: search, rank, unrank
void bind_codec(nanobind::module_& m);    // Codec: encode, decode, rates, catalog
void bind_quant(nanobind::module_& m);    // quantize_tensor, QuantizedTensor (kernels, bytes)
void bind_model(nanobind::module_& m);    // models: load, quantize, save, eval, generate
void bind_rd(nanobind::module_& m);       // rd, rd_table: rate–distortion on synthetic sources

}  // namespace llvq::py
