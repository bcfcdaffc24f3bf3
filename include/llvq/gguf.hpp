// A general GGUF (v2/v3) reader and writer, independent of any model architecture.
//
// Reading parses and validates the whole header (magic, version, counts and string lengths
// against the file size, value type ids, duplicated keys or tensor names, n_dims ≤ 4,
// tensor types, offsets aligned and inside the data section, no overlapping tensors) and
// keeps the file image in memory for tensor data access. Writing follows ggml's layout
// rules exactly (tensor data in tensor-info order, each padded to general.alignment), so
// files we write load in llama.cpp and round-trip bit-exactly through the reader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace llvq::gguf {

// Metadata value type ids as stored on disk.
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string to_string(ValueType t);

class Value;

// A homogeneous array; `element_type` matters even when empty (it is written to disk).
struct Array {
  ValueType element_type = ValueType::UINT8;
  std::vector<Value> items;
};

// One typed metadata value. The variant's alternative index equals the on-disk type id.
class Value {
 public:
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
                               Array, uint64_t, int64_t, double>;

  Value() : v_(uint8_t{0}) {}
  template <class T>
    requires std::is_constructible_v<Storage, T> && (!std::is_same_v<std::decay_t<T>, const char*>)
  explicit Value(T x) : v_(std::move(x)) {}
  explicit Value(const char* s) : v_(std::string(s)) {}

  ValueType type() const { return static_cast<ValueType>(v_.index()); }
  const Storage& storage() const { return v_; }

  // Typed views; throw InputError naming `what` (e.g. the key) on a type mismatch.
  // Any integer type converts to as_int/as_uint when the value fits; floats and doubles
  // convert to as_double; integers do not silently become floats.
  int64_t as_int(const std::string& what) const;
  uint64_t as_uint(const std::string& what) const;
  double as_double(const std::string& what) const;
  bool as_bool(const std::string& what) const;
  const std::string& as_string(const std::string& what) const;
  const Array& as_array(const std::string& what) const;

  // Convenience constructors for arrays of one type.
  static Value array(ValueType element_type, std::vector<Value> items);
  static Value strings(const std::vector<std::string>& items);
  static Value floats(const std::vector<float>& items);
  static Value int32s(const std::vector<int32_t>& items);

  // Human-readable; long arrays are abbreviated to their first `max_items` items.
  std::string to_display(size_t max_items = 8) const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  Storage v_;
};
bool operator==(const Array& a, const Array& b);

// ggml tensor types (ids as in ggml.h). Only these are accepted; other ids are rejected as
// ggml's own reader does.
enum class TensorType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23, IQ1_M = 29,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
};
std::string to_string(TensorType t);
bool is_known_tensor_type(uint32_t id);
uint64_t block_size(TensorType t);   // elements per block
uint64_t block_bytes(TensorType t);  // bytes per block

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // ne[0] is the innermost (contiguous) dimension
  TensorType type = TensorType::F32;
  uint64_t offset = 0;  // relative to the start of the data section
  uint64_t n_elements() const;
  uint64_t n_bytes() const;  // ne[0] must be a multiple of the block size
};

struct KeyValue {
  std::string key;
  Value value;
};

// A parsed GGUF file, holding its bytes.
class File {
 public:
  // Reads and validates `path`; throws InputError naming the file and the field.
  static File read(const std::string& path);
  // Parses an in-memory image; `name` labels error messages.
  static File parse(std::vector<uint8_t> bytes, const std::string& name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of the data section
  const std::vector<KeyValue>& metadata() const { return kv_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  const Value* find(const std::string& key) const;  // nullptr when absent
  const Value& get(const std::string& key) const;   // throws InputError when absent
  const TensorInfo* find_tensor(const std::string& name) const;
  const TensorInfo& tensor(const std::string& name) const;  // throws InputError when absent

  // The raw bytes of a tensor.
  std::span<const uint8_t> data(const TensorInfo& t) const;
  // The file image those bytes live in, for callers that keep a tensor's bytes without a copy.
  std::shared_ptr<const std::vector<uint8_t>> image() const { return bytes_; }
  // A tensor as fp32, dequantizing F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the K-quants
  // Q2_K..Q6_K (F32 is copied); other types (Q8_1, Q8_K, integer types) throw InputError.
  std::vector<float> to_f32(const TensorInfo& t) const;

 private:
  std::string name_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  uint32_t version_ = 3;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> kv_;
  std::vector<TensorInfo> tensors_;
};

// Dequantizes `n` elements of `type` stored at `src` (n a multiple of the block size).
// Exposed for tests and for other readers.
void dequantize(TensorType type, std::span<const uint8_t> src, uint64_t n, float* dst);

// Builds a GGUF v3 file in memory and writes it.
class Writer {
 public:
  // Adds a key; keys are written in the order they were set. Setting a key twice throws
  // InputError (GGUF readers reject duplicated keys), as does a non-homogeneous array.
  void set(const std::string& key, Value value);
  // Tensor data must hold exactly TensorInfo::n_bytes() bytes for `ne` and `type`; names are
  // 1..63 bytes (ggml's limit), 1..4 dimensions, unique. Data is written in this order.
  void add_tensor(const std::string& name, std::vector<uint64_t> ne, TensorType type, std::vector<uint8_t> data);
  void add_f32(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values);
  void add_f16(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values);  // rounds to nearest-even
  void add_bf16(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values);  // nearest-even
  // Q8_0 as ggml's reference quantizer makes it (a block of 32: fp16 scale max|x|/127, int8
  // round-half-away); ne[0] must be a multiple of 32.
  void add_q8_0(const std::string& name, std::vector<uint64_t> ne, std::span<const float> values);
  // general.alignment (default 32); must be a power of two.
  void set_alignment(uint32_t alignment);

  // The complete file image.
  std::vector<uint8_t> serialize() const;
  // Writes to "<path>.tmp-<pid>" and renames over `path` at the end.
  void write(const std::string& path) const;

 private:
  std::vector<uint8_t> header_bytes() const;  // up to the start of the data section
  uint64_t padding(uint64_t size) const;      // zero bytes after `size` bytes of data

  struct PendingTensor {
    TensorInfo info;
    std::vector<uint8_t> data;
  };
  uint32_t alignment_ = 32;
  std::vector<KeyValue> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace llvq::gguf
