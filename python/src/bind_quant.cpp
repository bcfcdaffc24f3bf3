// llvq._core: the per-tensor pipeline (quantize_tensor) and its result, a quantized matrix
// that runs through the CPU kernels (QuantizedLinear) and serialises to bytes.
#include "bind_quant.hpp"

#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "bindings.hpp"
#include "common.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/gptq.hpp"

namespace llvq::py {
namespace {

// The tensor's name inside its byte form: a one-tensor GGUF image in the compressed model
// format (QuantizedLinear::write_gguf), so the bytes hold exactly what a model file holds.
constexpr const char* kBytesName = "weight";

Eigen::MatrixXd hessian_from_array(const AnyArray& h, int64_t cols) {
  const View<double> v = view<double>(h, "hessian", 2);
  if (v.shape[0] != cols || v.shape[1] != cols)
    throw InputError("hessian: expected shape (" + std::to_string(cols) + ", " + std::to_string(cols) + ")");
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v.data[i])) throw InputError("hessian: NaN or infinity at flat index " + std::to_string(i));
  // Row-major data into Eigen's column-major matrix: the transpose, which is H itself only
  // when H is symmetric, so copy element by element.
  Eigen::MatrixXd out(cols, cols);
  for (int64_t r = 0; r < cols; ++r)
    for (int64_t c = 0; c < cols; ++c) out(r, c) = v.data[r * cols + c];
  return out;
}

Eigen::MatrixXd hessian_from_activations(const AnyArray& x, int64_t cols) {
  const View<float> v = view<float>(x, "activations", 2);
  if (v.shape[1] != cols)
    throw InputError("activations: expected shape (n, " + std::to_string(cols) + "), got (" +
                     std::to_string(v.shape[0]) + ", " + std::to_string(v.shape[1]) + ")");
  if (v.shape[0] == 0) throw InputError("activations: need at least one row");
  require_finite(v, "activations");
  HessianAccumulator acc(static_cast<size_t>(cols));
  acc.add(v.data, static_cast<size_t>(v.shape[0]));
  return acc.hessian();
}

PyQuantized quantize(const AnyArray& w, const std::string& codec, const nb::object& hessian,
                     const nb::object& activations, const std::string& rounding, const std::string& hadamard,
                     const std::string& tail, uint64_t seed, double damp) {
  const View<float> v = view<float>(w, "w", 2);
  require_finite(v, "w");
  if (!hessian.is_none() && !activations.is_none()) throw InputError("give either hessian or activations, not both");
  if (!std::isfinite(damp) || damp < 0) throw InputError("damp must be finite and >= 0");
  TensorQuantOptions o;
  o.codec = codec;
  o.rounding = parse_rounding(rounding);
  o.hadamard = parse_hadamard(hadamard);
  o.tail = parse_tail(tail);
  o.hadamard_seed = seed;
  o.damp = damp;
  check_options(o);
  const int64_t rows = v.shape[0], cols = v.shape[1];
  const Eigen::MatrixXd h = !hessian.is_none()       ? hessian_from_array(nb::cast<AnyArray>(hessian), cols)
                            : !activations.is_none() ? hessian_from_activations(nb::cast<AnyArray>(activations), cols)
                                                     : Eigen::MatrixXd();
  nb::gil_scoped_release release;
  TensorQuantResult r = quantize_tensor(v.data, rows, cols, h, o);
  PyQuantized q;
  q.layout = r.layout;
  q.weighted_error = r.weighted_error;
  q.seconds = r.seconds;
  q.linear = std::make_shared<QuantizedLinear>(std::move(r.tensor));
  return q;
}

// y = W·x for x of shape (cols,), or Y = X·Wᵀ for X of shape (n, cols).
nb::ndarray<nb::numpy, float> matvec(const PyQuantized& q, const AnyArray& x) {
  const View<float> v = view<float>(x, "x", -1);
  const int64_t cols = q.linear->in_features(), rows = q.linear->out_features();
  if (v.shape.empty() || v.shape.size() > 2 || v.shape.back() != cols)
    throw InputError("x: expected shape (" + std::to_string(cols) + ",) or (n, " + std::to_string(cols) + ")");
  require_finite(v, "x");
  const int64_t n = v.shape.size() == 2 ? v.shape[0] : 1;
  std::vector<float> y(static_cast<size_t>(n * rows));
  {
    nb::gil_scoped_release release;
    if (n > 0) q.linear->forward(v.data, y.data(), n);
  }
  if (v.shape.size() == 1) return to_numpy(std::move(y), {static_cast<size_t>(rows)});
  return to_numpy(std::move(y), {static_cast<size_t>(n), static_cast<size_t>(rows)});
}

// The benchmark's yardstick for the cost of a Python call: the median time of the C++ call
// that matvec makes, timed in C++.
double forward_seconds(const PyQuantized& q, const AnyArray& x, int repeats) {
  const View<float> v = view<float>(x, "x", 1);
  if (v.shape[0] != q.linear->in_features()) throw InputError("x: wrong length");
  if (repeats < 1) throw InputError("repeats must be >= 1");
  std::vector<float> y(static_cast<size_t>(q.linear->out_features()));
  std::vector<double> t(static_cast<size_t>(repeats));
  nb::gil_scoped_release release;
  for (double& s : t) {
    const auto t0 = std::chrono::steady_clock::now();
    q.linear->forward(v.data, y.data(), 1);
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::nth_element(t.begin(), t.begin() + repeats / 2, t.end());
  return t[static_cast<size_t>(repeats / 2)];
}

nb::ndarray<nb::numpy, float> dequantize(const PyQuantized& q) {
  std::vector<float> w;
  {
    nb::gil_scoped_release release;
    w = q.linear->tensor()->dequantize();
  }
  return to_numpy(std::move(w), {static_cast<size_t>(q.linear->out_features()), static_cast<size_t>(q.linear->in_features())});
}

nb::bytes to_bytes(const PyQuantized& q) {
  gguf::Writer w;
  q.linear->write_gguf(w, kBytesName);
  const std::vector<uint8_t> image = w.serialize();
  return nb::bytes(reinterpret_cast<const char*>(image.data()), image.size());
}

PyQuantized from_bytes(const nb::bytes& data) {
  const auto* p = static_cast<const uint8_t*>(data.data());
  const gguf::File f = gguf::File::parse(std::vector<uint8_t>(p, p + data.size()), "quantized tensor bytes");
  const std::string shape_key = std::string("llvq.t.") + kBytesName + ".shape";
  const gguf::Array& shape = f.get(shape_key).as_array(shape_key);
  if (shape.items.size() != 2) throw InputError("quantized tensor bytes: shape must have two entries");
  const auto rows = static_cast<int64_t>(shape.items[0].as_uint("rows"));
  const auto cols = static_cast<int64_t>(shape.items[1].as_uint("cols"));
  PyQuantized q;
  q.linear = QuantizedLinear::read_gguf(f, kBytesName, rows, cols);
  return q;
}

// A codec's codes (Codec::encode_rows of rows × cols, no transform) as a quantized tensor.
PyQuantized from_codes(const std::string& spec, const AnyArray& codes, int64_t rows, int64_t cols) {
  const View<uint8_t> v = view<uint8_t>(codes, "codes", 1);
  if (rows <= 0 || cols <= 0) throw InputError("rows and cols must be positive");
  TensorHeader h;
  h.rows = rows;
  h.cols = cols;
  h.codec = shared_codec(spec)->spec();  // a row codec: a GLVQ spec has no such codes
  h.body_cols = cols;
  auto t = make_quantized_tensor(std::move(h), {{"body", std::vector<uint8_t>(v.data, v.data + v.size())}}, "codes");
  nb::gil_scoped_release release;
  return {std::make_shared<QuantizedLinear>(std::move(t)), "exact", std::numeric_limits<double>::quiet_NaN(), 0};
}

const TensorHeader& header(const PyQuantized& q) { return q.linear->tensor()->header(); }

// The blob `name` of the tensor's codes; empty when its kind has none of that name.
nb::ndarray<nb::numpy, uint8_t> blob(const PyQuantized& q, const std::string& name) {
  for (const auto& [blob_name, bytes] : q.linear->tensor()->code_blobs())
    if (blob_name == name) return bytes_to_numpy(bytes);
  return bytes_to_numpy({});
}

}  // namespace

void bind_quant(nb::module_& m) {
  nb::class_<PyQuantized>(m, "QuantizedTensor")
      .def_prop_ro("rows", [](const PyQuantized& q) { return header(q).rows; })
      .def_prop_ro("cols", [](const PyQuantized& q) { return header(q).cols; })
      .def_prop_ro("codec", [](const PyQuantized& q) { return header(q).codec; })
      .def_prop_ro("tail_codec", [](const PyQuantized& q) { return header(q).tail_codec; })
      .def_prop_ro("body_cols", [](const PyQuantized& q) { return header(q).body_cols; })
      .def_prop_ro("tail_cols", [](const PyQuantized& q) { return header(q).tail_cols; })
      .def_prop_ro("hadamard", [](const PyQuantized& q) { return to_string(header(q).hadamard); })
      .def_prop_ro("hadamard_seed", [](const PyQuantized& q) { return header(q).hadamard_seed; })
      .def_prop_ro("payload_bits", [](const PyQuantized& q) { return q.linear->tensor()->payload_bits(); })
      .def_prop_ro("bits_per_weight", [](const PyQuantized& q) { return q.linear->tensor()->bits_per_weight(); })
      .def_prop_ro("body_codes", [](const PyQuantized& q) { return blob(q, "body"); }, nb::rv_policy::move)
      .def_prop_ro("tail_codes", [](const PyQuantized& q) { return blob(q, "tail"); }, nb::rv_policy::move)
      .def_prop_ro("uses_kernels", [](const PyQuantized& q) { return q.linear->uses_kernels(); })
      .def_prop_ro("resident_bytes", [](const PyQuantized& q) { return q.linear->resident_bytes(); })
      .def_ro("layout", &PyQuantized::layout)
      .def_ro("weighted_error", &PyQuantized::weighted_error)
      .def_ro("seconds", &PyQuantized::seconds)
      .def("dequantize", &dequantize)
      .def("matvec", &matvec, nb::arg("x"))
      .def("_forward_seconds", &forward_seconds, nb::arg("x"), nb::arg("repeats"))
      .def("to_bytes", &to_bytes)
      .def_static("from_bytes", &from_bytes, nb::arg("data"))
      .def_static("from_codes", &from_codes, nb::arg("codec"), nb::arg("codes"), nb::arg("rows"), nb::arg("cols"));
  m.def("quantize_tensor", &quantize, nb::arg("w"), nb::arg("codec"), nb::arg("hessian").none(),
        nb::arg("activations").none(), nb::arg("rounding"), nb::arg("hadamard"), nb::arg("tail"), nb::arg("seed"),
        nb::arg("damp"));
}

}  // namespace llvq::py
