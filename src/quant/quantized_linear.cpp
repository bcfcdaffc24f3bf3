// QuantizedLinear's GGUF form: the llvq.t.N.* keys of the tensor's header, a checksum, and the
// codes as its stored-tensor kind writes and reads them (tensor_kind.hpp).
#include <algorithm>

#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/quantized_model.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq {
namespace {

std::string key(const std::string& name, const std::string& field) { return "llvq.t." + name + "." + field; }

// CRC-32 of everything that decodes the tensor: its llvq.t.* keys (shape, codecs, column
// split, Hadamard mode and seed) and its code blobs by name, each field length-prefixed.
uint32_t tensor_checksum(const QuantizedTensor& tensor) {
  const TensorHeader& t = tensor.header();
  std::vector<uint8_t> bytes;
  const auto put_u64 = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  const auto put_str = [&](const std::string& v) {
    put_u64(v.size());
    bytes.insert(bytes.end(), v.begin(), v.end());
  };
  put_u64(static_cast<uint64_t>(t.rows));
  put_u64(static_cast<uint64_t>(t.cols));
  put_str(t.codec);
  put_u64(static_cast<uint64_t>(t.body_cols));
  put_str(t.tail_codec);
  put_u64(static_cast<uint64_t>(t.tail_cols));
  put_str(to_string(t.hadamard));
  put_u64(t.hadamard_seed);
  uint32_t crc = crc32(bytes);
  CodeBlobs blobs = tensor.code_blobs();
  std::sort(blobs.begin(), blobs.end());
  for (const auto& [name, blob] : blobs) {
    bytes.clear();
    put_str(name);
    put_u64(blob.size());
    crc = crc32(blob, crc32(bytes, crc));
  }
  return crc;
}

}  // namespace

void QuantizedLinear::write_gguf(gguf::Writer& w, const std::string& name) const {
  const TensorHeader& t = tensor_->header();
  using gguf::Value;
  w.set(key(name, "shape"), Value::array(gguf::ValueType::UINT64, {Value(uint64_t(t.rows)), Value(uint64_t(t.cols))}));
  w.set(key(name, "codec"), Value(t.codec));
  w.set(key(name, "body_cols"), Value(uint64_t(t.body_cols)));
  w.set(key(name, "tail_codec"), Value(t.tail_codec));
  w.set(key(name, "tail_cols"), Value(uint64_t(t.tail_cols)));
  w.set(key(name, "hadamard"), Value(to_string(t.hadamard)));
  w.set(key(name, "hadamard_seed"), Value(uint64_t(t.hadamard_seed)));
  w.set(key(name, "bpw"), Value(tensor_->bits_per_weight()));
  w.set(key(name, "crc32"), Value(tensor_checksum(*tensor_)));
  tensor_->write_codes(w, name);
}

bool QuantizedLinear::present_in(const gguf::File& f, const std::string& name) {
  return quant_detail::stored_in(f, name);
}

std::shared_ptr<QuantizedLinear> QuantizedLinear::read_gguf(const gguf::File& f, const std::string& name, int64_t out,
                                                            int64_t in) {
  const std::string what = f.name() + ": quantized tensor '" + name + "'";
  auto u64 = [&](const std::string& field) { return f.get(key(name, field)).as_uint(what + " " + field); };
  auto str = [&](const std::string& field) { return f.get(key(name, field)).as_string(what + " " + field); };
  const gguf::Array& shape = f.get(key(name, "shape")).as_array(what + " shape");
  if (shape.items.size() != 2) throw InputError(what + ": shape must have two entries");
  TensorHeader h;
  h.rows = static_cast<int64_t>(shape.items[0].as_uint(what + " rows"));
  h.cols = static_cast<int64_t>(shape.items[1].as_uint(what + " cols"));
  if (h.rows != out || h.cols != in)
    throw InputError(what + ": shape [" + std::to_string(h.rows) + ", " + std::to_string(h.cols) +
                     "] differs from the model's [" + std::to_string(out) + ", " + std::to_string(in) + "]");
  h.codec = str("codec");
  h.body_cols = static_cast<int64_t>(u64("body_cols"));
  h.tail_codec = str("tail_codec");
  h.tail_cols = static_cast<int64_t>(u64("tail_cols"));
  h.hadamard = parse_hadamard(str("hadamard"));
  h.hadamard_seed = u64("hadamard_seed");
  std::shared_ptr<const QuantizedTensor> t;
  try {
    t = quant_detail::tensor_kind(h.codec).read_gguf(f, name, h, what);
    // Files written before the checksum existed have no crc32 key and are read as they are.
    const gguf::Value* crc = f.find(key(name, "crc32"));
    if (crc && crc->as_uint(what + " crc32") != tensor_checksum(*t))
      throw InputError(what + ": checksum mismatch: its codes or its llvq.t.* keys were altered or corrupted");
    t->validate(what);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {  // a malformed codec spec read from the file
    throw InputError(what + ": " + e.what());
  }
  return std::make_shared<QuantizedLinear>(std::move(t));
}

const CompressedLayerIo& quantized_layer_io() {
  static const CompressedLayerIo io{
      [](const gguf::File& f, const std::string& name, int64_t out, int64_t in) -> std::shared_ptr<Linear> {
        if (!QuantizedLinear::present_in(f, name)) return nullptr;
        return QuantizedLinear::read_gguf(f, name, out, in);
      },
      [](gguf::Writer& w, const Linear& layer, const std::string& name) -> std::optional<uint64_t> {
        const auto* q = dynamic_cast<const QuantizedLinear*>(&layer);
        if (!q) return std::nullopt;
        q->write_gguf(w, name);
        return q->tensor()->payload_bits();
      }};
  return io;
}

}  // namespace llvq
