// Shared helpers of the Python bindings: checking NumPy arrays without copying them, handing
// C++ results to NumPy without copying them, and Python callbacks called from C++ code that
// runs without the GIL.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "llvq/report.hpp"

namespace llvq::py {

namespace nb = nanobind;

// Any read-only CPU or foreign array; the helpers below check dtype, shape and layout and
// say what is wrong, instead of nanobind's generic "incompatible function arguments".
using AnyArray = nb::ndarray<nb::ro>;

// A checked view of a C-contiguous array's data (no copy).
template <class T>
struct View {
  const T* data = nullptr;
  std::vector<int64_t> shape;
  size_t size() const {
    size_t n = 1;
    for (const int64_t s : shape) n *= static_cast<size_t>(s);
    return n;
  }
};

// InputError (Python ValueError) unless `a` is a C-contiguous CPU array of T with `ndim`
// dimensions (`ndim` < 0: any). `name` is the argument's name in the message.
template <class T>
View<T> view(const AnyArray& a, const char* name, int ndim);

// InputError naming the first NaN or infinity of `v` (with its row and column for 2-D views).
void require_finite(const View<float>& v, const char* name);

// A NumPy array that takes ownership of `values` (no copy).
template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values, std::initializer_list<size_t> shape);

// A NumPy uint8 array holding a copy of `bytes` (code buffers; small next to the weights).
nb::ndarray<nb::numpy, uint8_t> bytes_to_numpy(const std::vector<uint8_t>& bytes);

// A ProgressCallback that calls the Python callable `fn` (None: no callback) with
// (stage, done, total, detail), taking the GIL for the call. `fn` must outlive the callback:
// the callback holds a pointer, so that C++ code may copy it without the GIL.
ProgressCallback progress_callback(const nb::object& fn);

}  // namespace llvq::py
