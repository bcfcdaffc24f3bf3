// llvq._core: block codecs behind llvq::Codec, on 2-D float32 arrays (one row per matrix row).
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "common.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"

namespace llvq::py {
namespace {

struct PyCodec {
  std::shared_ptr<const Codec> codec;
};

PyCodec make(const std::string& spec) { return {shared_codec(spec)}; }

nb::ndarray<nb::numpy, uint8_t> encode(const PyCodec& c, const AnyArray& w) {
  const View<float> v = view<float>(w, "w", 2);
  require_finite(v, "w");
  const size_t rows = static_cast<size_t>(v.shape[0]), cols = static_cast<size_t>(v.shape[1]);
  c.codec->check_row_length(cols);
  std::vector<uint8_t> codes;
  {
    nb::gil_scoped_release release;
    codes = c.codec->encode_rows(v.data, rows, cols);
  }
  const size_t n = codes.size();
  return to_numpy(std::move(codes), {n});
}

nb::ndarray<nb::numpy, float> decode(const PyCodec& c, const AnyArray& codes, int64_t rows, int64_t cols) {
  const View<uint8_t> v = view<uint8_t>(codes, "codes", 1);
  if (rows < 0 || cols <= 0) throw InputError("rows must be >= 0 and cols > 0");
  c.codec->check_row_length(static_cast<size_t>(cols));
  std::vector<float> w(static_cast<size_t>(rows * cols));
  {
    nb::gil_scoped_release release;
    c.codec->decode_rows(v.data, v.size(), static_cast<size_t>(rows), static_cast<size_t>(cols), w.data());
  }
  return to_numpy(std::move(w), {static_cast<size_t>(rows), static_cast<size_t>(cols)});
}

double bpw(const PyCodec& c, int64_t cols) {
  if (cols <= 0) throw InputError("cols must be positive");
  c.codec->check_row_length(static_cast<size_t>(cols));
  return c.codec->bits_per_weight(static_cast<size_t>(cols));
}

}  // namespace

void bind_codec(nb::module_& m) {
  nb::class_<PyCodec>(m, "Codec")
      .def(nb::new_(&make), nb::arg("spec"))
      .def_prop_ro("name", [](const PyCodec& c) { return c.codec->name(); })
      .def_prop_ro("spec", [](const PyCodec& c) { return c.codec->spec(); })
      .def_prop_ro("block_dim", [](const PyCodec& c) { return c.codec->block_dim(); })
      .def_prop_ro("block_bits", [](const PyCodec& c) { return c.codec->block_bits(); })
      .def("side_bits", [](const PyCodec& c, size_t cols) { return c.codec->side_bits(cols); }, nb::arg("cols"))
      .def("bits_per_weight", &bpw, nb::arg("cols"))
      .def("check_row_length", [](const PyCodec& c, size_t cols) { c.codec->check_row_length(cols); }, nb::arg("cols"))
      .def("encode", &encode, nb::arg("w"))
      .def("decode", &decode, nb::arg("codes"), nb::arg("rows"), nb::arg("cols"));
  m.def("codec_catalog", &codec_catalog);
  m.def("smallest_row_length", [](const PyCodec& c, size_t at_least, size_t at_most) {
    return smallest_row_length(*c.codec, at_least, at_most);
  });
}

}  // namespace llvq::py
