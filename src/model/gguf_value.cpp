// GGUF metadata values and ggml tensor type tables.
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>

#include "io_util.hpp"
#include "llvq/gguf.hpp"

namespace llvq::gguf {
namespace {

[[noreturn]] void type_mismatch(const std::string& what, ValueType have, const char* want) {
  throw InputError(what + ": expected " + want + ", found a " + to_string(have) + " value");
}

struct TypeTraits {
  uint32_t id;
  const char* name;
  uint64_t block;
  uint64_t bytes;
};

// Block geometry of the accepted ggml types (ggml.c's type_traits table).
constexpr TypeTraits kTensorTypes[] = {
    {0, "F32", 1, 4},       {1, "F16", 1, 2},       {2, "Q4_0", 32, 18},    {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},    {7, "Q5_1", 32, 24},    {8, "Q8_0", 32, 34},    {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},  {11, "Q3_K", 256, 110}, {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210}, {15, "Q8_K", 256, 292}, {24, "I8", 1, 1},       {25, "I16", 1, 2},
    {26, "I32", 1, 4},      {27, "I64", 1, 8},      {28, "F64", 1, 8},      {30, "BF16", 1, 2},
    // llama.cpp's i-quants: readable (inspect, sizes), not dequantized.
    {16, "IQ2_XXS", 256, 66}, {17, "IQ2_XS", 256, 74}, {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},
    {20, "IQ4_NL", 32, 18},   {21, "IQ3_S", 256, 110}, {22, "IQ2_S", 256, 82},   {23, "IQ4_XS", 256, 136},
    {29, "IQ1_M", 256, 56},
};

const TypeTraits& traits(TensorType t) {
  for (const auto& tt : kTensorTypes)
    if (tt.id == static_cast<uint32_t>(t)) return tt;
  throw InputError("unknown ggml tensor type id " + std::to_string(static_cast<uint32_t>(t)));
}

}  // namespace

std::string to_string(ValueType t) {
  static const char* names[] = {"uint8", "int8",  "uint16", "int16",  "uint32", "int32",  "float32",
                                "bool",  "string", "array", "uint64", "int64",  "float64"};
  const auto i = static_cast<uint32_t>(t);
  return i < 13 ? names[i] : "type#" + std::to_string(i);
}

std::string to_string(TensorType t) {
  for (const auto& tt : kTensorTypes)
    if (tt.id == static_cast<uint32_t>(t)) return tt.name;
  return "type#" + std::to_string(static_cast<uint32_t>(t));
}

bool is_known_tensor_type(uint32_t id) {
  for (const auto& tt : kTensorTypes)
    if (tt.id == id) return true;
  return false;
}

uint64_t block_size(TensorType t) { return traits(t).block; }
uint64_t block_bytes(TensorType t) { return traits(t).bytes; }

uint64_t TensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n = io::checked_mul(n, d, "tensor '" + name + "'", "element count");
  return n;
}

uint64_t TensorInfo::n_bytes() const {
  const uint64_t bs = block_size(type);
  if (ne.empty() || ne[0] % bs != 0)
    throw InputError("tensor '" + name + "': ne[0] = " + (ne.empty() ? std::string("?") : std::to_string(ne[0])) +
                     " is not a multiple of the " + to_string(type) + " block size " + std::to_string(bs));
  return io::checked_mul(n_elements() / bs, block_bytes(type), "tensor '" + name + "'", "byte size");
}

int64_t Value::as_int(const std::string& what) const {
  return std::visit(
      [&](const auto& x) -> int64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, uint64_t>) {
          if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw InputError(what + ": value " + std::to_string(x) + " is out of range");
          return static_cast<int64_t>(x);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<int64_t>(x);
        } else {
          type_mismatch(what, type(), "an integer");
        }
      },
      v_);
}

uint64_t Value::as_uint(const std::string& what) const {
  const bool is_u64 = std::holds_alternative<uint64_t>(v_);
  if (is_u64) return std::get<uint64_t>(v_);
  const int64_t x = as_int(what);
  if (x < 0) throw InputError(what + ": value " + std::to_string(x) + " must not be negative");
  return static_cast<uint64_t>(x);
}

double Value::as_double(const std::string& what) const {
  if (const auto* f = std::get_if<float>(&v_)) return *f;
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  type_mismatch(what, type(), "a float32 or float64");
}

bool Value::as_bool(const std::string& what) const {
  if (const auto* b = std::get_if<bool>(&v_)) return *b;
  type_mismatch(what, type(), "a bool");
}

const std::string& Value::as_string(const std::string& what) const {
  if (const auto* s = std::get_if<std::string>(&v_)) return *s;
  type_mismatch(what, type(), "a string");
}

const Array& Value::as_array(const std::string& what) const {
  if (const auto* a = std::get_if<Array>(&v_)) return *a;
  type_mismatch(what, type(), "an array");
}

Value Value::array(ValueType element_type, std::vector<Value> items) {
  for (const auto& it : items)
    if (it.type() != element_type)
      throw InputError("GGUF array of " + to_string(element_type) + " given a " + to_string(it.type()) + " item");
  return Value(Array{element_type, std::move(items)});
}

Value Value::strings(const std::vector<std::string>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (const auto& s : items) v.emplace_back(s);
  return Value(Array{ValueType::STRING, std::move(v)});
}

Value Value::floats(const std::vector<float>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (float f : items) v.emplace_back(f);
  return Value(Array{ValueType::FLOAT32, std::move(v)});
}

Value Value::int32s(const std::vector<int32_t>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (int32_t x : items) v.emplace_back(x);
  return Value(Array{ValueType::INT32, std::move(v)});
}

std::string Value::to_display(size_t max_items) const {
  std::ostringstream os;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          os << '"' << x << '"';
        } else if constexpr (std::is_same_v<T, Array>) {
          os << "[" << to_string(x.element_type) << " × " << x.items.size() << ": ";
          for (size_t i = 0; i < x.items.size() && i < max_items; ++i) os << (i ? ", " : "") << x.items[i].to_display(max_items);
          os << (x.items.size() > max_items ? ", ...]" : "]");
        } else if constexpr (std::is_same_v<T, bool>) {
          os << (x ? "true" : "false");
        } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
          os << static_cast<int>(x);
        } else if constexpr (std::is_floating_point_v<T>) {
          os.precision(std::numeric_limits<T>::max_digits10);
          os << x;
        } else {
          os << x;
        }
      },
      v_);
  return os.str();
}

bool operator==(const Array& a, const Array& b) { return a.element_type == b.element_type && a.items == b.items; }

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  // Floats compare by bit pattern so that NaN payloads and -0 round-trip checks are exact.
  if (const auto* f = std::get_if<float>(&a.v_)) return std::bit_cast<uint32_t>(*f) == std::bit_cast<uint32_t>(std::get<float>(b.v_));
  if (const auto* d = std::get_if<double>(&a.v_))
    return std::bit_cast<uint64_t>(*d) == std::bit_cast<uint64_t>(std::get<double>(b.v_));
  return a.v_ == b.v_;
}

}  // namespace llvq::gguf
