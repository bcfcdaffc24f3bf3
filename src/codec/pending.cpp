#include "codec/codec_impl.hpp"
#include "llvq/error.hpp"
namespace llvq::codec_detail {
std::unique_ptr<Codec> make_llvq_sg(const CodecSpec&) { throw InputError("llvq-sg: pending"); }
std::unique_ptr<Codec> make_llvq_ss(const CodecSpec&) { throw InputError("llvq-ss: pending"); }
std::unique_ptr<Codec> make_l24sq(const CodecSpec&) { throw InputError("l24sq: pending"); }
}
