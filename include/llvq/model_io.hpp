// Loading and saving whole Llama models. One entry point reads every supported format
// into the one in-memory representation (llvq::LlamaModel, always RoPE-interleaved fp32):
//   - llama2.c checkpoints, version 0 (bare 28-byte header) and version 1 (256-byte "ak42"
//     header), fp32;
//   - GGUF v2/v3 with architecture "llama" (F32, F16, BF16, Q4_0/1, Q5_0/1, Q8_0 and
//     Q2_K..Q6_K tensors, dequantized on load; tokenizer.ggml.* fills LlamaModel::tokenizer);
//   - safetensors in Hugging Face Llama layout (single file, or sharded through
//     model.safetensors.index.json) with config.json next to it; F32/F16/BF16. HF's
//     rotary q/k row permutation is undone so the model is RoPE-interleaved.
// Bad files throw llvq::InputError naming the file and the offending field.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "llvq/model.hpp"

namespace llvq {

namespace gguf {
class File;
class Writer;
}  // namespace gguf

// How linear layers kept in compressed form are read from and written to GGUF files. The
// model layer parses and writes GGUF models through it without knowing the compressed
// formats; the quantization layer provides LLVQ's (llvq::quantized_layer_io() in
// llvq/quantized_model.hpp), which the entry points without this argument use.
struct CompressedLayerIo {
  // Layer `name` of shape [out, in] when the file stores it compressed, else nullptr.
  std::function<std::shared_ptr<Linear>(const gguf::File& file, const std::string& name, int64_t out, int64_t in)>
      read;
  // Writes `layer` under `name` and returns its payload bits when it is a compressed layer;
  // nullopt for a layer the file stores as a plain tensor.
  std::function<std::optional<uint64_t>(gguf::Writer& writer, const Linear& layer, const std::string& name)> write;
};

enum class ModelFormat { Auto, Llama2c, Gguf, Safetensors };

std::string to_string(ModelFormat f);

struct LoadOptions {
  ModelFormat format = ModelFormat::Auto;  // Auto: detect from magic bytes, extension, directory
};

// The format of `path`: a directory is a safetensors model; otherwise the magic bytes
// decide ("GGUF", llama2.c's "ak42", a safetensors JSON header), then the extension
// (.bin → llama2.c version 0). Throws InputError when nothing matches.
ModelFormat detect_model_format(const std::string& path);

// Loads any supported format, then require_finite_weights: a NaN or infinite weight is an
// InputError naming the tensor and the first bad index, never a NaN result later.
LlamaModel load_model(const std::string& path, const LoadOptions& options = {});
LlamaModel load_model(const std::string& path, const LoadOptions& options, const CompressedLayerIo& io);
// The check alone (dense tensors; compressed layers validate their scales when packed).
void require_finite_weights(const LlamaModel& m, const std::string& path);

// The per-format loaders behind load_model. `name` labels error messages.
LlamaModel load_llama2c(const std::string& path);
LlamaModel parse_llama2c(std::span<const uint8_t> bytes, const std::string& name);
LlamaModel load_gguf_model(const std::string& path);
LlamaModel load_gguf_model(const std::string& path, const CompressedLayerIo& io);
LlamaModel llama_from_gguf(const gguf::File& file);  // architecture "llama" only
LlamaModel llama_from_gguf(const gguf::File& file, const CompressedLayerIo& io);
LlamaModel load_safetensors_model(const std::string& path);

// Storage of the 2-D dense weights in a GGUF file. Source: each tensor in the type its GGUF
// source stored it in when its values are unchanged (so a file whose linear layers are
// compressed is never larger than its source), F32 otherwise. Q8_0 needs rows that are a
// multiple of 32; other rows are written as F16.
enum class WeightType { F32, F16, BF16, Q8_0, Source };
std::string to_string(WeightType t);
WeightType parse_weight_type(const std::string& s);  // f32 | f16 | bf16 | q8_0 | source

struct GgufSaveOptions {
  // Storage of the 2-D weights (embedding and linear layers); 1-D norm weights always stay
  // F32, as in llama.cpp, because they are tiny and precision-sensitive.
  WeightType weight_type = WeightType::F32;
  bool overwrite = false;  // replace an existing output file (never one the model was read from)
  uint32_t alignment = 32;  // general.alignment; a power of two
};

// Writes `model` as a GGUF v3 "llama" file. The file is written under a temporary name and
// renamed at the end. Throws InputError when `path` exists (unless options.overwrite) or is
// the file the model was loaded from (model.metadata["source"]). Compressed layers are
// stored in their own form (`io.write`, LLVQ's by default), with the file's exact rate of
// them in llvq.bpw.
void save_gguf(const LlamaModel& model, const std::string& path, const GgufSaveOptions& options = {});
void save_gguf(const LlamaModel& model, const std::string& path, const GgufSaveOptions& options,
               const CompressedLayerIo& io);

}  // namespace llvq
