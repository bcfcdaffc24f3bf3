// `llvq inspect` and `llvq convert` as library functions, returning what the commands print
// with --json, so that the CLI and the Python bindings give the same answers. They live in the
// quantization layer because they read compressed layers (load_model with LLVQ's form).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "llvq/model.hpp"
#include "llvq/model_io.hpp"

namespace llvq {

// Parameters of the model's weights (embedding, norms, linear layers, an untied classifier).
uint64_t model_parameters(const LlamaModel& model);

// {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len, norm_eps, rope_theta,
// tied_embeddings}
nlohmann::json config_json(const LlamaConfig& config);

// "auto", "llama2c", "gguf" or "safetensors"; InputError otherwise.
ModelFormat parse_model_format(const std::string& name);

// How inspect shows a file: a GGUF file's keys and tensors, a .safetensors file's header, or
// the loaded model (llama2.c checkpoints, safetensors directories and index files).
enum class InspectView { Gguf, SafetensorsFile, Model };
InspectView inspect_view(const std::string& path);

// `llvq inspect --json`: GGUF {file, format, version, alignment, data_offset, metadata
// [{key, type, value}], tensors [{name, type, ne, offset, bytes}]} with arrays cut to
// `max_items` items; .safetensors {file, format, metadata, tensors [{name, dtype, shape,
// data_offsets}]}; a model {file, format, parameters, config, tokenizer}. Non-finite floats
// are strings (JSON has none).
nlohmann::json inspect_json(const std::string& path, size_t max_items);

struct ConvertOptions {
  std::string type = "f32";    // storage of the 2-D weights: f32, f16, bf16, q8_0, source
  std::string tokenizer;       // a llama2.c tokenizer.bin to store (empty: the model's own)
  std::string format = "auto";  // the input's format (parse_model_format)
  bool force = false;          // replace an existing output (never the input)
};

// `llvq convert`: loads `input`, decompresses its compressed layers (recording
// llvq.decompressed_from), and saves it as GGUF `output` (which must end in .gguf). Returns
// the summary of `llvq convert --json`: input, input_format, output, type, parameters,
// tokenizer, decompressed_layers, output_bytes, load_seconds, save_seconds, config.
nlohmann::json convert_model(const std::string& input, const std::string& output, const ConvertOptions& options);

}  // namespace llvq
