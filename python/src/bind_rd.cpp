// llvq._core: `llvq rd` (llvq/rd.hpp): the rate, distortion and throughput of a codec on a
// synthetic or model-weight source, returned as the JSON text `llvq rd --json` prints.
#include <nanobind/stl/string.h>

#include <cstdint>
#include <string>

#include "bindings.hpp"
#include "llvq/error.hpp"
#include "llvq/rd.hpp"

namespace llvq::py {
namespace {

namespace nb = nanobind;

// Python ints may be negative; the library takes sizes, so a negative one is named here
// instead of failing nanobind's conversion with a TypeError.
size_t size_arg(int64_t v, const char* name) {
  if (v < 0) throw InputError(std::string(name) + " must be positive, got " + std::to_string(v));
  return static_cast<size_t>(v);
}

std::string rd(const std::string& codec, const std::string& source, int64_t blocks, uint64_t seed, int64_t row) {
  const size_t b = size_arg(blocks, "blocks"), n = size_arg(row, "row");
  nb::gil_scoped_release release;  // loading a model source and the measurement take seconds
  return measure_rd(codec, RdSource::parse(source), b, seed, n).json().dump();
}

std::string rd_table(const std::string& source, int64_t blocks, uint64_t seed, int64_t row) {
  const size_t b = size_arg(blocks, "blocks"), n = size_arg(row, "row");
  nb::gil_scoped_release release;
  nlohmann::json out = nlohmann::json::array();
  for (const RdTableRow& r : measure_rd_table(RdSource::parse(source), b, seed, n)) out.push_back(r.json());
  return out.dump();
}

}  // namespace

void bind_rd(nb::module_& m) {
  m.def("rd", &rd, nb::arg("codec"), nb::arg("source"), nb::arg("blocks"), nb::arg("seed"), nb::arg("row"));
  m.def("rd_table", &rd_table, nb::arg("source"), nb::arg("blocks"), nb::arg("seed"), nb::arg("row"));
}

}  // namespace llvq::py
