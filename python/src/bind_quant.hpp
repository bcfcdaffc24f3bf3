// The Python object of a quantized matrix, shared by the tensor and model bindings.
#pragma once

#include <limits>
#include <memory>
#include <string>

#include "llvq/quantized_model.hpp"

namespace llvq::py {

struct PyQuantized {
  std::shared_ptr<QuantizedLinear> linear;  // the stored form and its kernels
  // What the pipeline reported when this object was made by quantization (not from a file).
  std::string layout;
  double weighted_error = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;
};

}  // namespace llvq::py
