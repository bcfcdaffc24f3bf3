// Names of the pipeline's options and the checks every entry point runs before any work.
#include "llvq/error.hpp"
#include "llvq/quantize.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq {

std::string to_string(Rounding r) {
  switch (r) {
    case Rounding::Rtn: return "rtn";
    case Rounding::Gptq: return "gptq";
    case Rounding::SphericalGptq: return "spherical-gptq";
  }
  return "?";
}
std::string to_string(HadamardMode h) {
  switch (h) {
    case HadamardMode::None: return "none";
    case HadamardMode::In: return "in";
    case HadamardMode::InOut: return "inout";
  }
  return "?";
}
std::string to_string(TailMode t) {
  switch (t) {
    case TailMode::Auto: return "auto";
    case TailMode::Pad: return "pad";
    case TailMode::Codec: return "codec";
  }
  return "?";
}

Rounding parse_rounding(const std::string& s) {
  for (Rounding r : {Rounding::Rtn, Rounding::Gptq, Rounding::SphericalGptq})
    if (to_string(r) == s) return r;
  throw InputError("unknown rounding '" + s + "' (rtn, gptq, spherical-gptq)");
}
HadamardMode parse_hadamard(const std::string& s) {
  for (HadamardMode h : {HadamardMode::None, HadamardMode::In, HadamardMode::InOut})
    if (to_string(h) == s) return h;
  throw InputError("unknown Hadamard mode '" + s + "' (none, in, inout)");
}
TailMode parse_tail(const std::string& s) {
  for (TailMode t : {TailMode::Auto, TailMode::Pad, TailMode::Codec})
    if (to_string(t) == s) return t;
  throw InputError("unknown tail mode '" + s + "' (auto, pad, codec)");
}

std::string canonical_codec_spec(const std::string& spec) {
  return quant_detail::tensor_kind(spec).canonical_spec(spec);
}

bool takes_rounding(const std::string& spec) { return quant_detail::tensor_kind(spec).takes_rounding(); }

void check_options(const TensorQuantOptions& o) {
  const quant_detail::TensorKind& kind = quant_detail::tensor_kind(o.codec);
  kind.canonical_spec(o.codec);  // InputError on a bad spec
  kind.check_options(o);
}

}  // namespace llvq
