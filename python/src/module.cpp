// llvq._core: the extension module. llvq::InputError (bad input: arguments, files) becomes
// llvq.InputError, a subclass of ValueError with the same message.
#include <nanobind/stl/string.h>

#include "bindings.hpp"
#include "llvq/error.hpp"
#include "llvq/kernels.hpp"

namespace nb = nanobind;

NB_MODULE(_core, m) {
  nb::exception<llvq::InputError>(m, "InputError", PyExc_ValueError);
  m.attr("__version__") = LLVQ_VERSION;
  m.attr("built_native") = LLVQ_BUILT_NATIVE != 0;
  m.def("active_isa", [] { return llvq::kernels::to_string(llvq::kernels::active_isa()); });
  llvq::py::bind_lattice(m);
  llvq::py::bind_codec(m);
  llvq::py::bind_quant(m);
  llvq::py::bind_model(m);
  llvq::py::bind_rd(m);
}
