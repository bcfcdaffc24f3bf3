// Names of the pipeline's options and the checks every entry point runs before any work.
#include "llvq/error.hpp"
#include "llvq/glvq.hpp"
#include "llvq/quantize.hpp"
#include "quant/pipeline_detail.hpp"

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

namespace quant_detail {

// GLVQ's learning is its Hessian-aware step and it pads rows itself: options that would ask
// for something else are refused rather than silently ignored.
void check_glvq_options(const TensorQuantOptions& o) {
  if (o.rounding != Rounding::Gptq)
    throw InputError("glvq: rounding '" + to_string(o.rounding) +
                     "' does not apply (GLVQ learns its generation matrices in the Hessian metric instead of "
                     "GPTQ; leave the rounding at its default, gptq)");
  if (o.tail == TailMode::Codec)
    throw InputError("glvq: tail mode 'codec' does not apply (GLVQ pads rows to a multiple of dim)");
}

}  // namespace quant_detail

bool is_glvq_spec(const std::string& spec) { return spec == "glvq" || spec.rfind("glvq:", 0) == 0; }

std::string canonical_codec_spec(const std::string& spec) {
  return is_glvq_spec(spec) ? GlvqConfig::parse(spec).spec() : shared_codec(spec)->spec();
}

void check_options(const TensorQuantOptions& o) {
  canonical_codec_spec(o.codec);
  if (is_glvq_spec(o.codec)) quant_detail::check_glvq_options(o);
}

}  // namespace llvq
