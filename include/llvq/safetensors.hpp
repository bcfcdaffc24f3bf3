// safetensors files: an 8-byte little-endian header length, a JSON header mapping tensor
// names to {dtype, shape, data_offsets} (plus an optional "__metadata__" string map), then
// the byte buffer. The reader validates the header completely (JSON syntax, duplicated
// names, dtypes, shapes against offsets, offsets inside the buffer, no overlaps) and reads
// tensor data on demand, so a large shard is never held in memory whole.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llvq::safetensors {

enum class DType { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };
std::string to_string(DType d);
uint64_t dtype_bytes(DType d);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint64_t> shape;  // outermost first (row-major), as in PyTorch
  uint64_t begin = 0, end = 0;  // byte range within the buffer
  uint64_t n_elements() const;
};

class File {
 public:
  // Reads and validates the header of `path` (tensor data is read later, on demand).
  static File read(const std::string& path);
  // Parses a whole in-memory file image; `name` labels error messages.
  static File parse(std::vector<uint8_t> bytes, const std::string& name);

  const std::string& name() const { return name_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in buffer order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorInfo* find(const std::string& tensor) const;
  const TensorInfo& tensor(const std::string& tensor) const;  // throws InputError when absent

  std::vector<uint8_t> bytes(const TensorInfo& t) const;
  // F32, F16 and BF16 tensors as fp32; other dtypes throw InputError.
  std::vector<float> to_f32(const TensorInfo& t) const;

 private:
  void parse_header(const std::string& json, uint64_t buffer_size);

  std::string name_;
  std::shared_ptr<const std::vector<uint8_t>> image_;  // whole file when parsed from memory
  uint64_t buffer_offset_ = 0;                         // 8 + header length
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace llvq::safetensors
