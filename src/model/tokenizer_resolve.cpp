#include <filesystem>

#include "llvq/error.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq {

namespace {

TokenizerData find_tokenizer_data(const LlamaModel& model, const std::string& model_path,
                                  const std::string& explicit_path) {
  if (!explicit_path.empty()) return load_llama2c_tokenizer(explicit_path);
  if (model.tokenizer) return *model.tokenizer;
  const std::filesystem::path dir = std::filesystem::path(model_path).parent_path();
  const std::string candidates[] = {"tok" + std::to_string(model.config.vocab_size) + ".bin", "tokenizer.bin"};
  for (const std::string& name : candidates) {
    const std::filesystem::path p = dir / name;
    if (std::filesystem::is_regular_file(p)) return load_llama2c_tokenizer(p.string());
  }
  throw InputError("no tokenizer for " + model_path + ": the file carries none and there is no " + candidates[0] +
                   " or " + candidates[1] + " next to it; pass --tokenizer PATH");
}

}  // namespace

Tokenizer tokenizer_for_model(const LlamaModel& model, const std::string& model_path, const std::string& explicit_path) {
  Tokenizer tok(find_tokenizer_data(model, model_path, explicit_path));
  if (tok.vocab_size() != model.config.vocab_size)
    throw InputError("the tokenizer has " + std::to_string(tok.vocab_size()) + " tokens but the model's vocabulary is " +
                     std::to_string(model.config.vocab_size));
  return tok;
}

}  // namespace llvq
