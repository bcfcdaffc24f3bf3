// GGUF parsing and validation, and dequantization of the common ggml block formats.
#include <algorithm>
#include <bit>
#include <set>

#include "io_util.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"

namespace llvq::gguf {
namespace {

constexpr int kMaxArrayDepth = 8;  // nested arrays deeper than this are rejected (stack safety)
constexpr uint32_t kMaxDims = 4;   // GGML_MAX_DIMS

uint64_t fixed_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    case ValueType::STRING: return 8;  // at least the length prefix
    case ValueType::ARRAY: return 12;  // at least element type + count
  }
  return 1;
}

ValueType read_type(io::Cursor& in, const std::string& field) {
  const uint32_t id = in.read<uint32_t>(field);
  if (id > static_cast<uint32_t>(ValueType::FLOAT64)) in.fail(field + ": unknown GGUF value type id " + std::to_string(id));
  return static_cast<ValueType>(id);
}

std::string read_string(io::Cursor& in, const std::string& field) {
  const uint64_t len = in.read<uint64_t>(field + " length");
  auto bytes = in.take(len, field + " (string of " + std::to_string(len) + " bytes)");
  return std::string(bytes.begin(), bytes.end());
}

Value read_value(io::Cursor& in, ValueType type, const std::string& field, int depth);

Value read_array(io::Cursor& in, const std::string& field, int depth) {
  if (depth >= kMaxArrayDepth) in.fail(field + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
  const ValueType element = read_type(in, field + " element type");
  const uint64_t count = in.read<uint64_t>(field + " array length");
  // Every element needs at least fixed_size bytes: a count the file cannot hold is an
  // error before anything is allocated.
  in.require(io::checked_mul(count, fixed_size(element), in.file(), field + " array size"),
             field + " (array of " + std::to_string(count) + " " + to_string(element) + ")");
  Array a{element, {}};
  a.items.reserve(count);
  for (uint64_t i = 0; i < count; ++i) a.items.push_back(read_value(in, element, field, depth + 1));
  return Value(std::move(a));
}

Value read_value(io::Cursor& in, ValueType type, const std::string& field, int depth) {
  switch (type) {
    case ValueType::UINT8: return Value(in.read<uint8_t>(field));
    case ValueType::INT8: return Value(in.read<int8_t>(field));
    case ValueType::UINT16: return Value(in.read<uint16_t>(field));
    case ValueType::INT16: return Value(in.read<int16_t>(field));
    case ValueType::UINT32: return Value(in.read<uint32_t>(field));
    case ValueType::INT32: return Value(in.read<int32_t>(field));
    case ValueType::FLOAT32: return Value(in.read<float>(field));
    case ValueType::UINT64: return Value(in.read<uint64_t>(field));
    case ValueType::INT64: return Value(in.read<int64_t>(field));
    case ValueType::FLOAT64: return Value(in.read<double>(field));
    case ValueType::BOOL: {
      const uint8_t b = in.read<uint8_t>(field);
      if (b > 1) in.fail(field + ": bool value " + std::to_string(b) + " is not 0 or 1");
      return Value(b == 1);
    }
    case ValueType::STRING: return Value(read_string(in, field));
    case ValueType::ARRAY: return read_array(in, field, depth);
  }
  in.fail(field + ": unknown GGUF value type");
}

uint64_t align_up(uint64_t x, uint64_t a, const std::string& file) {
  return io::checked_add(x, (a - x % a) % a, file, "aligned offset");
}

TensorInfo read_tensor_info(io::Cursor& in, uint64_t index) {
  TensorInfo t;
  const std::string label = "tensor info #" + std::to_string(index);
  t.name = read_string(in, label + " name");
  if (t.name.empty()) in.fail(label + ": empty tensor name");
  const std::string field = "tensor '" + t.name + "'";
  const uint32_t n_dims = in.read<uint32_t>(field + " n_dims");
  if (n_dims == 0 || n_dims > kMaxDims)
    in.fail(field + ": n_dims = " + std::to_string(n_dims) + " (must be 1.." + std::to_string(kMaxDims) + ")");
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t n = in.read<uint64_t>(field + " ne[" + std::to_string(d) + "]");
    if (n == 0 || n > static_cast<uint64_t>(INT64_MAX))
      in.fail(field + ": ne[" + std::to_string(d) + "] = " + std::to_string(n) + " is out of range");
    t.ne.push_back(n);
  }
  const uint32_t type = in.read<uint32_t>(field + " type");
  if (!is_known_tensor_type(type)) in.fail(field + ": unknown ggml tensor type id " + std::to_string(type));
  t.type = static_cast<TensorType>(type);
  t.offset = in.read<uint64_t>(field + " offset");
  return t;
}

uint64_t read_alignment(const Value& v, const std::string& file) {
  if (v.type() != ValueType::UINT32)
    throw InputError(file + ": general.alignment must be a uint32, found " + to_string(v.type()));
  const uint64_t a = std::get<uint32_t>(v.storage());
  if (a == 0 || !std::has_single_bit(a))
    throw InputError(file + ": general.alignment = " + std::to_string(a) + " is not a power of two");
  return a;
}

// Offsets aligned, inside the data section, tensors not overlapping.
void check_tensor_ranges(const std::vector<TensorInfo>& tensors, uint64_t alignment, uint64_t data_size,
                         const std::string& file) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    const std::string field = file + ": tensor '" + t.name + "'";
    if (t.offset % alignment != 0)
      throw InputError(field + ": offset " + std::to_string(t.offset) + " is not a multiple of general.alignment " +
                       std::to_string(alignment));
    uint64_t bytes;
    try {
      bytes = t.n_bytes();
    } catch (const InputError& e) {
      throw InputError(file + ": " + e.what());
    }
    const uint64_t end = io::checked_add(t.offset, bytes, file, "tensor '" + t.name + "' end offset");
    if (end > data_size)
      throw InputError(field + ": data [" + std::to_string(t.offset) + ", " + std::to_string(end) +
                       ") leaves the data section of " + std::to_string(data_size) + " bytes");
    order[i] = i;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = tensors[order[k - 1]];
    const TensorInfo& cur = tensors[order[k]];
    if (prev.offset + prev.n_bytes() > cur.offset)
      throw InputError(file + ": tensor '" + cur.name + "' overlaps tensor '" + prev.name + "'");
  }
}

}  // namespace

File File::read(const std::string& path) { return parse(io::read_file_bytes(path), path); }

File File::parse(std::vector<uint8_t> bytes, const std::string& name) {
  File f;
  f.name_ = name;
  f.bytes_ = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  io::Cursor in(*f.bytes_, name);
  const uint32_t magic = in.read<uint32_t>("magic");
  if (magic != 0x46554747u) in.fail("not a GGUF file (magic is not \"GGUF\")");
  f.version_ = in.read<uint32_t>("version");
  if (f.version_ != 2 && f.version_ != 3)
    in.fail("GGUF version " + std::to_string(f.version_) + " is not supported (2 and 3 are; a big-endian file?)");
  const uint64_t n_tensors = in.read<uint64_t>("tensor count");
  const uint64_t n_kv = in.read<uint64_t>("metadata key/value count");
  // A key/value pair needs ≥ 8+1+4 bytes and a tensor info ≥ 8+1+4+8+4+8.
  if (n_kv > in.remaining() / 13) in.fail("metadata key/value count " + std::to_string(n_kv) + " exceeds the file size");
  if (n_tensors > in.remaining() / 33) in.fail("tensor count " + std::to_string(n_tensors) + " exceeds the file size");
  std::set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = read_string(in, "key #" + std::to_string(i));
    if (key.empty()) in.fail("key #" + std::to_string(i) + " is empty");
    if (!keys.insert(key).second) in.fail("duplicated key '" + key + "'");
    const ValueType type = read_type(in, "value type of key '" + key + "'");
    Value v = read_value(in, type, "value of key '" + key + "'", 0);
    if (key == "general.alignment") f.alignment_ = read_alignment(v, name);
    f.kv_.push_back({std::move(key), std::move(v)});
  }
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t = read_tensor_info(in, i);
    if (!names.insert(t.name).second) in.fail("duplicated tensor name '" + t.name + "'");
    f.tensors_.push_back(std::move(t));
  }
  f.data_offset_ = align_up(in.pos(), f.alignment_, name);
  const uint64_t size = f.bytes_->size();
  if (f.data_offset_ > size && !f.tensors_.empty())
    throw InputError(name + ": truncated: the data section would start at byte " + std::to_string(f.data_offset_) +
                     " but the file has " + std::to_string(size) + " bytes");
  check_tensor_ranges(f.tensors_, f.alignment_, f.data_offset_ > size ? 0 : size - f.data_offset_, name);
  return f;
}

const Value* File::find(const std::string& key) const {
  for (const auto& kv : kv_)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

const Value& File::get(const std::string& key) const {
  if (const Value* v = find(key)) return *v;
  throw InputError(name_ + ": missing metadata key '" + key + "'");
}

const TensorInfo* File::find_tensor(const std::string& tensor_name) const {
  for (const auto& t : tensors_)
    if (t.name == tensor_name) return &t;
  return nullptr;
}

const TensorInfo& File::tensor(const std::string& tensor_name) const {
  if (const TensorInfo* t = find_tensor(tensor_name)) return *t;
  throw InputError(name_ + ": missing tensor '" + tensor_name + "'");
}

std::span<const uint8_t> File::data(const TensorInfo& t) const {
  return std::span<const uint8_t>(*bytes_).subspan(data_offset_ + t.offset, t.n_bytes());
}

std::vector<float> File::to_f32(const TensorInfo& t) const {
  std::vector<float> out(t.n_elements());
  try {
    dequantize(t.type, data(t), out.size(), out.data());
  } catch (const InputError& e) {
    throw InputError(name_ + ": tensor '" + t.name + "': " + e.what());
  }
  return out;
}

}  // namespace llvq::gguf
