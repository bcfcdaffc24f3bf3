// Llama models to and from GGUF (work in progress: reader and writer follow).
#include "llvq/model_io.hpp"
#include "llvq/error.hpp"

namespace llvq {

LlamaModel load_gguf_model(const std::string& path) { throw InputError(path + ": GGUF loading is not implemented yet"); }

}  // namespace llvq
