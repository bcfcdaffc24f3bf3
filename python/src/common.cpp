#include "common.hpp"

#include <cmath>
#include <cstring>

#include "llvq/error.hpp"

namespace llvq::py {
namespace {

std::string dtype_name(nb::dlpack::dtype d) {
  const char* kind = d.code == static_cast<uint8_t>(nb::dlpack::dtype_code::Float)  ? "float"
                     : d.code == static_cast<uint8_t>(nb::dlpack::dtype_code::Int)  ? "int"
                     : d.code == static_cast<uint8_t>(nb::dlpack::dtype_code::UInt) ? "uint"
                     : d.code == static_cast<uint8_t>(nb::dlpack::dtype_code::Bool) ? "bool"
                                                                                    : "other";
  return std::string(kind) + std::to_string(d.bits);
}

template <class T>
const char* numpy_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  if constexpr (std::is_same_v<T, double>) return "float64";
  if constexpr (std::is_same_v<T, int32_t>) return "int32";
  if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
  if constexpr (std::is_same_v<T, uint8_t>) return "uint8";
}

std::string shape_text(const AnyArray& a) {
  std::string s = "(";
  for (size_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// C order: the last axis has stride 1 and each earlier one spans the axes after it (axes of
// length 1, and empty arrays, may carry any stride).
bool c_contiguous(const AnyArray& a) {
  if (a.size() == 0) return true;
  int64_t expected = 1;
  for (size_t i = a.ndim(); i-- > 0;) {
    if (a.shape(i) != 1 && a.stride(i) != expected) return false;
    expected *= static_cast<int64_t>(a.shape(i));
  }
  return true;
}

}  // namespace

template <class T>
View<T> view(const AnyArray& a, const char* name, int ndim) {
  if (a.device_type() != nb::device::cpu::value)
    throw InputError(std::string(name) + ": expected a CPU array (move it to the CPU first)");
  if (a.dtype() != nb::dtype<T>())
    throw InputError(std::string(name) + ": expected dtype " + numpy_name<T>() + ", got " + dtype_name(a.dtype()) +
                     " (convert with .astype(numpy." + numpy_name<T>() + "))");
  if (ndim >= 0 && a.ndim() != static_cast<size_t>(ndim))
    throw InputError(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array, got shape " + shape_text(a));
  if (!c_contiguous(a))
    throw InputError(std::string(name) + ": expected a C-contiguous array (use numpy.ascontiguousarray)");
  View<T> v;
  v.data = static_cast<const T*>(a.data());
  for (size_t i = 0; i < a.ndim(); ++i) v.shape.push_back(static_cast<int64_t>(a.shape(i)));
  return v;
}

template View<float> view<float>(const AnyArray&, const char*, int);
template View<double> view<double>(const AnyArray&, const char*, int);
template View<int32_t> view<int32_t>(const AnyArray&, const char*, int);
template View<uint64_t> view<uint64_t>(const AnyArray&, const char*, int);
template View<uint8_t> view<uint8_t>(const AnyArray&, const char*, int);

void require_finite(const View<float>& v, const char* name) {
  const size_t n = v.size();
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(v.data[i])) {
      const std::string where = v.shape.size() == 2
                                    ? "[" + std::to_string(i / static_cast<size_t>(v.shape[1])) + ", " +
                                          std::to_string(i % static_cast<size_t>(v.shape[1])) + "]"
                                    : "[" + std::to_string(i) + "]";
      throw InputError(std::string(name) + ": " + (std::isnan(v.data[i]) ? "NaN" : "infinity") + " at " + where);
    }
}

template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values, std::initializer_list<size_t> shape) {
  auto* heap = new std::vector<T>(std::move(values));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(heap->data(), shape, owner);
}

template nb::ndarray<nb::numpy, float> to_numpy(std::vector<float>&&, std::initializer_list<size_t>);
template nb::ndarray<nb::numpy, double> to_numpy(std::vector<double>&&, std::initializer_list<size_t>);
template nb::ndarray<nb::numpy, int32_t> to_numpy(std::vector<int32_t>&&, std::initializer_list<size_t>);
template nb::ndarray<nb::numpy, uint64_t> to_numpy(std::vector<uint64_t>&&, std::initializer_list<size_t>);
template nb::ndarray<nb::numpy, uint8_t> to_numpy(std::vector<uint8_t>&&, std::initializer_list<size_t>);

nb::ndarray<nb::numpy, uint8_t> bytes_to_numpy(const std::vector<uint8_t>& bytes) {
  return to_numpy(std::vector<uint8_t>(bytes), {bytes.size()});
}

ProgressCallback progress_callback(const nb::object& fn) {
  if (fn.is_none()) return {};
  const nb::object* target = &fn;
  return [target](const std::string& stage, size_t done, size_t total, const std::string& detail) {
    nb::gil_scoped_acquire gil;
    (*target)(stage, done, total, detail);
  };
}

}  // namespace llvq::py
