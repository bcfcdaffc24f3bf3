// UTF-8 and GPT-2 byte-level helpers for the tokenizers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llvq/tokenizer.hpp"

namespace llvq::detail {

// Bytes of the code point starting at s[i] as llama2.c groups them: the lead byte plus the
// continuation bytes (10xxxxxx) after it, four at most. Never 0 (stray bytes stand alone).
size_t utf8_sequence_length(std::string_view s, size_t i);

// The code point at s[i] and its length; an invalid sequence yields its first byte alone.
std::pair<uint32_t, size_t> decode_utf8(std::string_view s, size_t i);
std::string encode_utf8(uint32_t cp);

// GPT-2's reversible byte -> printable character map (bytes that are printable Latin-1
// stand for themselves, the others for code points 256, 257, ... in byte order).
std::array<std::string, 256> gpt2_byte_chars();

// GPT-2's pre-tokenization: contractions, optionally space-led runs of letters, of digits,
// of other symbols, and whitespace runs (all but their last character when a word
// follows), with Unicode's letter / number / white-space classes. `split_digits`: every
// number character is first cut out as a piece of its own (llama.cpp's pre-tokenizers
// "smollm", "starcoder", "refact", ...: the regex "\p{N}" applied before GPT-2's).
std::vector<std::string_view> gpt2_pretokenize(std::string_view text, bool split_digits = false);

// Llama 3's pre-tokenization (llama.cpp's LLAMA3 pre-tokenizer type): case-insensitive
// contractions, letter runs with at most one leading non-letter, non-digit character, digit
// runs of at most three, symbol runs with an optional leading space and their trailing
// newlines, whitespace through its last newline, and whitespace runs as in GPT-2's.
std::vector<std::string_view> llama3_pretokenize(std::string_view text);

// The pre-tokenizer GGUF's tokenizer.ggml.pre names ("" and unknown names: GPT-2's).
PreTokenizer pre_tokenizer_of(const std::string& pre);
std::vector<std::string_view> pretokenize(std::string_view text, PreTokenizer pre);

}  // namespace llvq::detail
