// Text <-> token ids for the two tokenizer families Llama-architecture models ship with:
//  - "llama": SentencePiece BPE driven by piece scores, with byte fallback (llama2.c's
//    tokenizer.bin, GGUF tokenizer.ggml.model = "llama");
//  - "gpt2": byte-level BPE driven by a ranked merge list (GGUF tokenizer.ggml.model = "gpt2").
// `TokenizerData` always holds pieces in the GGUF convention ('▁' marks a space, control
// tokens "<s>"/"</s>", byte tokens "<0xXX>"); load_llama2c_tokenizer converts to it.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "llvq/model.hpp"

namespace llvq {

// GGUF token types (tokenizer.ggml.token_type).
enum TokenType : int32_t { kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4,
                           kTokenUnused = 5, kTokenByte = 6 };

// How a gpt2-type tokenizer cuts text before BPE, from GGUF's tokenizer.ggml.pre (llama.cpp's
// names): GPT-2's regex (the default, also for unknown names); the same after cutting out every
// digit ("smollm", "starcoder", ...); Llama 3's regex ("llama-bpe", "llama3", "falcon3", ...),
// whose tokenizers also take a pre-token that is a vocabulary entry whole.
enum class PreTokenizer { Gpt2, Gpt2SplitDigits, Llama3 };

class Tokenizer {
 public:
  // Validates the data (ids in range, merges only for gpt2, ...); throws InputError.
  explicit Tokenizer(TokenizerData data);

  // Token ids of `text`, with BOS / EOS around it when asked. As in llama.cpp, the text of a
  // user-defined token always becomes that token; with `parse_special` the text of control
  // tokens ("<|im_start|>") does too (chat templates need it; perplexity runs do not).
  std::vector<int32_t> encode(std::string_view text, bool bos, bool eos, bool parse_special = false) const;
  // The bytes one token stands for (control tokens give ""). Streaming output uses this.
  std::string decode(int32_t token) const;
  // The text of a token sequence: control tokens dropped, and for "llama" the space that
  // encode's dummy prefix added in front of the first piece removed again.
  std::string decode(std::span<const int32_t> tokens) const;

  int vocab_size() const { return static_cast<int>(data_.tokens.size()); }
  int32_t bos_id() const { return data_.bos_id; }
  // Whether the model's text starts with BOS (GGUF tokenizer.ggml.add_bos_token; llama2.c
  // models always do), as llama.cpp decides for prompts and perplexity chunks.
  bool adds_bos() const { return data_.add_bos && data_.bos_id >= 0; }
  int32_t eos_id() const { return data_.eos_id; }
  const TokenizerData& data() const { return data_; }
  PreTokenizer pre_tokenizer() const { return pre_tokenizer_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using PieceMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

  void check_data() const;
  int32_t find_piece(std::string_view piece) const;  // -1 when absent or not text
  int32_t unknown_id() const;                         // throws when there is none
  struct Fragment {
    std::string_view text;  // raw text, when special < 0
    int32_t special = -1;
  };
  std::vector<Fragment> split_specials(std::string_view text, bool parse_special) const;
  std::vector<int32_t> encode_llama(std::string_view text) const;
  std::vector<int32_t> encode_gpt2(std::string_view text) const;
  void encode_gpt2_word(std::string_view word, std::vector<int32_t>& out) const;

  TokenizerData data_;
  bool gpt2_ = false;
  PreTokenizer pre_tokenizer_ = PreTokenizer::Gpt2;
  PieceMap piece_ids_;                 // text pieces (normal / user-defined) only
  std::vector<int32_t> specials_;      // control / user-defined / unknown tokens, longest text first
  PieceMap merge_ranks_;               // gpt2: "left right" -> rank
  std::array<int32_t, 256> byte_ids_;  // llama: byte-fallback token of each byte, -1 if none
  std::array<std::string, 256> byte_chars_;  // gpt2: printable stand-in of each byte
  std::unordered_map<uint32_t, uint8_t> char_bytes_;  // gpt2: inverse of byte_chars_
};

// Reads a llama2.c tokenizer.bin (u32 max_token_length, then per token: f32 score, i32
// length, bytes) into the GGUF convention. Throws InputError on a malformed file.
TokenizerData load_llama2c_tokenizer(const std::string& path);

// The tokenizer to use with a model: `explicit_path` (a llama2.c tokenizer.bin) when not
// empty, else the one the model file carries (GGUF), else tok<vocab>.bin or tokenizer.bin
// next to `model_path` (llama2.c's naming). Throws InputError when there is none or its
// vocabulary size differs from the model's.
Tokenizer tokenizer_for_model(const LlamaModel& model, const std::string& model_path,
                              const std::string& explicit_path);

}  // namespace llvq
