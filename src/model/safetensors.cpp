// safetensors models (work in progress).
#include "llvq/model_io.hpp"
#include "llvq/error.hpp"

namespace llvq {

LlamaModel load_safetensors_model(const std::string& path) {
  throw InputError(path + ": safetensors loading is not implemented yet");
}

}  // namespace llvq
