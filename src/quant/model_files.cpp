// The model file entry points of llvq/model_io.hpp that read and write LLVQ's compressed
// layers: the model layer's loaders and writer with quantized_layer_io() plugged in (the
// model layer itself knows no compressed format).
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"

namespace llvq {

LlamaModel load_model(const std::string& path, const LoadOptions& options) {
  return load_model(path, options, quantized_layer_io());
}

LlamaModel load_gguf_model(const std::string& path) { return load_gguf_model(path, quantized_layer_io()); }

LlamaModel llama_from_gguf(const gguf::File& file) { return llama_from_gguf(file, quantized_layer_io()); }

void save_gguf(const LlamaModel& model, const std::string& path, const GgufSaveOptions& options) {
  save_gguf(model, path, options, quantized_layer_io());
}

}  // namespace llvq
