#include <algorithm>

#include "llvq/codec.hpp"
#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/quantized_model.hpp"

namespace llvq {
namespace {

std::string key(const std::string& name, const std::string& field) { return "llvq.t." + name + "." + field; }
// GLVQ blob B of tensor N is stored as the I8 tensor "N.llvq_glvq_B".
std::string glvq_prefix(const std::string& name) { return name + ".llvq_glvq_"; }

std::vector<uint8_t> blob(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo& t = f.tensor(name);
  if (t.type != gguf::TensorType::I8 || t.ne.size() != 1)
    throw InputError(f.name() + ": tensor '" + name + "' must be a 1-D I8 tensor of packed codes");
  const auto d = f.data(t);
  return {d.begin(), d.end()};
}

using Blobs = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// The blobs that hold the tensor's codes, by name (GLVQ: its named blobs; otherwise body and
// tail).
Blobs code_blobs(const QuantizedTensor& t) {
  Blobs blobs = t.glvq ? t.glvq->to_blobs() : Blobs{{"body", t.body_codes}, {"tail", t.tail_codes}};
  std::sort(blobs.begin(), blobs.end());
  return blobs;
}

// CRC-32 of everything that decodes the tensor: its llvq.t.* keys (shape, codecs, column
// split, Hadamard mode and seed) and its code blobs, each field length-prefixed.
uint32_t tensor_checksum(const QuantizedTensor& t) {
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
  for (const auto& [name, blob] : code_blobs(t)) {
    bytes.clear();
    put_str(name);
    put_u64(blob.size());
    crc = crc32(blob, crc32(bytes, crc));
  }
  return crc;
}

}  // namespace

void QuantizedLinear::write_gguf(gguf::Writer& w, const std::string& name) const {
  const QuantizedTensor& t = tensor_;
  using gguf::Value;
  w.set(key(name, "shape"), Value::array(gguf::ValueType::UINT64, {Value(uint64_t(t.rows)), Value(uint64_t(t.cols))}));
  w.set(key(name, "codec"), Value(t.codec));
  w.set(key(name, "body_cols"), Value(uint64_t(t.body_cols)));
  w.set(key(name, "tail_codec"), Value(t.tail_codec));
  w.set(key(name, "tail_cols"), Value(uint64_t(t.tail_cols)));
  w.set(key(name, "hadamard"), Value(to_string(t.hadamard)));
  w.set(key(name, "hadamard_seed"), Value(uint64_t(t.hadamard_seed)));
  w.set(key(name, "bpw"), Value(t.bits_per_weight()));
  w.set(key(name, "crc32"), Value(tensor_checksum(t)));
  if (t.glvq) {  // GLVQ: one I8 tensor per named blob, no row codes
    for (const auto& [blob_name, bytes] : t.glvq->to_blobs())
      w.add_tensor(glvq_prefix(name) + blob_name, {bytes.size()}, gguf::TensorType::I8, bytes);
    return;
  }
  w.add_tensor(name + ".llvq_body", {t.body_codes.size()}, gguf::TensorType::I8, t.body_codes);
  if (!t.tail_codes.empty()) w.add_tensor(name + ".llvq_tail", {t.tail_codes.size()}, gguf::TensorType::I8, t.tail_codes);
}

namespace {

// Every tensor of the file under the GLVQ prefix of `name`, by blob name; which blobs must be
// there (and nothing else) is GlvqTensor::from_blobs' to check.
std::vector<std::pair<std::string, std::vector<uint8_t>>> glvq_blobs(const gguf::File& f, const std::string& name) {
  const std::string prefix = glvq_prefix(name);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> out;
  for (const gguf::TensorInfo& t : f.tensors())
    if (t.name.rfind(prefix, 0) == 0) out.emplace_back(t.name.substr(prefix.size()), blob(f, t.name));
  return out;
}

}  // namespace

bool QuantizedLinear::present_in(const gguf::File& f, const std::string& name) {
  return f.find_tensor(name + ".llvq_body") != nullptr || f.find_tensor(glvq_prefix(name) + "g") != nullptr;
}

std::shared_ptr<QuantizedLinear> QuantizedLinear::read_gguf(const gguf::File& f, const std::string& name, int64_t out,
                                                            int64_t in) {
  const std::string what = f.name() + ": quantized tensor '" + name + "'";
  auto u64 = [&](const std::string& field) { return f.get(key(name, field)).as_uint(what + " " + field); };
  auto str = [&](const std::string& field) { return f.get(key(name, field)).as_string(what + " " + field); };
  const gguf::Array& shape = f.get(key(name, "shape")).as_array(what + " shape");
  if (shape.items.size() != 2) throw InputError(what + ": shape must have two entries");
  QuantizedTensor t;
  t.rows = static_cast<int64_t>(shape.items[0].as_uint(what + " rows"));
  t.cols = static_cast<int64_t>(shape.items[1].as_uint(what + " cols"));
  if (t.rows != out || t.cols != in)
    throw InputError(what + ": shape [" + std::to_string(t.rows) + ", " + std::to_string(t.cols) +
                     "] differs from the model's [" + std::to_string(out) + ", " + std::to_string(in) + "]");
  t.codec = str("codec");
  t.body_cols = static_cast<int64_t>(u64("body_cols"));
  t.tail_codec = str("tail_codec");
  t.tail_cols = static_cast<int64_t>(u64("tail_cols"));
  t.hadamard = parse_hadamard(str("hadamard"));
  t.hadamard_seed = u64("hadamard_seed");
  try {
    if (is_glvq_spec(t.codec)) {
      try {
        t.glvq = GlvqTensor::from_blobs(t.codec, t.rows, t.cols, glvq_blobs(f, name));
      } catch (const InputError& e) {
        throw InputError(what + ": " + e.what());
      }
    } else {
      t.body_codes = blob(f, name + ".llvq_body");
      if (!t.tail_codec.empty()) t.tail_codes = blob(f, name + ".llvq_tail");
    }
    // Files written before the checksum existed have no crc32 key and are read as they are.
    if (const gguf::Value* crc = f.find(key(name, "crc32")); crc && crc->as_uint(what + " crc32") != tensor_checksum(t))
      throw InputError(what + ": checksum mismatch: its codes or its llvq.t.* keys were altered or corrupted");
    t.validate(what);
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
        return q->tensor().payload_bits();
      }};
  return io;
}

}  // namespace llvq
