// GGUF v3 writer. Layout as ggml writes and requires it: header, key/value pairs, tensor
// infos, zero padding to general.alignment, then the tensors in tensor-info order, each
// starting at an aligned offset (ggml's reader checks that offsets are exactly these).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <ostream>
#include <set>

#include "io_util.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/half.hpp"
#include "llvq/kernels.hpp"

namespace llvq::gguf {
namespace {

constexpr size_t kMaxTensorName = 63;  // GGML_MAX_NAME is 64 including the terminator

template <class T>
void put(std::vector<uint8_t>& out, T x) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &x, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  const size_t at = out.size();
  out.resize(at + s.size());
  if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
}

void put_value(std::vector<uint8_t>& out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          put_string(out, x);
        } else if constexpr (std::is_same_v<T, Array>) {
          put<uint32_t>(out, static_cast<uint32_t>(x.element_type));
          put<uint64_t>(out, x.items.size());
          for (const auto& item : x.items) put_value(out, item);
        } else if constexpr (std::is_same_v<T, bool>) {
          put<uint8_t>(out, x ? 1 : 0);
        } else {
          put<T>(out, x);
        }
      },
      v.storage());
}

void pad_to(std::vector<uint8_t>& out, uint64_t alignment) {
  out.resize(out.size() + (alignment - out.size() % alignment) % alignment, 0);
}

// Arrays must be homogeneous: the on-disk format has one element type per array.
void check_homogeneous(const Value& v, const std::string& key) {
  if (const auto* a = std::get_if<Array>(&v.storage()))
    for (const auto& item : a->items) {
      if (item.type() != a->element_type)
        throw InputError("GGUF key '" + key + "': array of " + to_string(a->element_type) + " holds a " +
                         to_string(item.type()));
      check_homogeneous(item, key);
    }
}

uint32_t checked_alignment(uint64_t a) {
  if (a == 0 || a > UINT32_MAX || !std::has_single_bit(a))
    throw InputError("GGUF general.alignment = " + std::to_string(a) + " is not a power of two");
  return static_cast<uint32_t>(a);
}

}  // namespace

void Writer::set(const std::string& key, Value value) {
  if (key.empty()) throw InputError("GGUF metadata key must not be empty");
  for (const auto& kv : kv_)
    if (kv.key == key) throw InputError("GGUF key '" + key + "' is set twice");
  check_homogeneous(value, key);
  if (key == "general.alignment") {
    if (value.type() != ValueType::UINT32) throw InputError("GGUF general.alignment must be a uint32");
    alignment_ = checked_alignment(std::get<uint32_t>(value.storage()));
  }
  kv_.push_back({key, std::move(value)});
}

void Writer::set_alignment(uint32_t alignment) {
  alignment_ = checked_alignment(alignment);
  for (auto& kv : kv_)
    if (kv.key == "general.alignment") {
      kv.value = Value(alignment_);
      return;
    }
  kv_.push_back({"general.alignment", Value(alignment_)});
}

void Writer::add_tensor(const std::string& name, std::vector<uint64_t> ne, TensorType type, std::vector<uint8_t> data) {
  if (name.empty() || name.size() > kMaxTensorName)
    throw InputError("GGUF tensor name '" + name + "' must have 1.." + std::to_string(kMaxTensorName) + " bytes");
  for (const auto& t : tensors_)
    if (t.info.name == name) throw InputError("GGUF tensor '" + name + "' is added twice");
  if (ne.empty() || ne.size() > 4) throw InputError("GGUF tensor '" + name + "' must have 1..4 dimensions");
  for (uint64_t n : ne)
    if (n == 0) throw InputError("GGUF tensor '" + name + "' has a zero dimension");
  TensorInfo info{name, std::move(ne), type, 0};
  if (info.n_bytes() != data.size())
    throw InputError("GGUF tensor '" + name + "': " + std::to_string(data.size()) + " bytes of data, the shape needs " +
                     std::to_string(info.n_bytes()));
  tensors_.push_back({std::move(info), std::move(data)});
}

void Writer::add_f32(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values) {
  std::vector<uint8_t> data(values.size() * 4);
  if (!values.empty()) std::memcpy(data.data(), values.data(), data.size());
  add_tensor(name, std::move(ne), TensorType::F32, std::move(data));
}

void Writer::add_f16(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values) {
  std::vector<uint8_t> data;
  data.reserve(values.size() * 2);
  for (float f : values) put<uint16_t>(data, float_to_fp16(f));
  add_tensor(name, std::move(ne), TensorType::F16, std::move(data));
}

void Writer::add_bf16(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values) {
  std::vector<uint8_t> data;
  data.reserve(values.size() * 2);
  for (float f : values) put<uint16_t>(data, float_to_bf16(f));
  add_tensor(name, std::move(ne), TensorType::BF16, std::move(data));
}

void Writer::add_q8_0(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values) {
  if (ne.empty() || ne[0] % block_size(TensorType::Q8_0) != 0)
    throw InputError("GGUF tensor '" + name + "': Q8_0 needs rows that are a multiple of 32 values");
  add_tensor(name, std::move(ne), TensorType::Q8_0, kernels::quantize_q8_0(values.data(), values.size()));
}

std::vector<uint8_t> Writer::header_bytes() const {
  std::vector<uint8_t> out;
  put<uint32_t>(out, 0x46554747u);  // "GGUF"
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, kv_.size());
  for (const auto& kv : kv_) {
    put_string(out, kv.key);
    put<uint32_t>(out, static_cast<uint32_t>(kv.value.type()));
    put_value(out, kv.value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(out, t.info.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.info.ne.size()));
    for (uint64_t n : t.info.ne) put<uint64_t>(out, n);
    put<uint32_t>(out, static_cast<uint32_t>(t.info.type));
    put<uint64_t>(out, offset);
    offset += t.data.size() + padding(t.data.size());
  }
  pad_to(out, alignment_);
  return out;
}

uint64_t Writer::padding(uint64_t size) const { return (alignment_ - size % alignment_) % alignment_; }

std::vector<uint8_t> Writer::serialize() const {
  std::vector<uint8_t> out = header_bytes();
  for (const auto& t : tensors_) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    out.resize(out.size() + padding(t.data.size()), 0);
  }
  return out;
}

void Writer::write(const std::string& path) const {
  // Streams the tensors instead of serializing, to avoid a second copy of the model.
  io::write_file_atomically(path, [&](std::ostream& os) {
    auto emit = [&](const std::vector<uint8_t>& b) {
      os.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    };
    emit(header_bytes());
    const std::vector<uint8_t> zeros(alignment_, 0);
    for (const auto& t : tensors_) {
      emit(t.data);
      os.write(reinterpret_cast<const char*>(zeros.data()), static_cast<std::streamsize>(padding(t.data.size())));
    }
  });
}

}  // namespace llvq::gguf
