// GPT-2 style byte-level BPE (GGUF tokenizer.ggml.model = "gpt2") and the UTF-8 helpers.
#include <unicode/uchar.h>

#include "llvq/tokenizer.hpp"
#include "model/tokenizer_bpe.hpp"
#include "model/tokenizer_utf8.hpp"

namespace llvq {

namespace detail {

size_t utf8_sequence_length(std::string_view s, size_t i) {
  size_t len = 1;
  while (len < 4 && i + len < s.size() && (static_cast<uint8_t>(s[i + len]) & 0xC0) == 0x80) ++len;
  return len;
}

std::pair<uint32_t, size_t> decode_utf8(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return {b0, 1};
  uint32_t cp = len == 1 ? b0 : b0 & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {b0, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, len};
}

std::string encode_utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

std::array<std::string, 256> gpt2_byte_chars() {
  std::array<std::string, 256> chars;
  uint32_t next_unprintable = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    chars[b] = encode_utf8(printable ? b : next_unprintable++);
  }
  return chars;
}

namespace {

enum class CharClass { Space, Letter, Digit, Other };

// Unicode's classes as the pre-tokenizer's regex uses them: \s (the White_Space property),
// \p{L} (general categories L*) and \p{N} (N*), from ICU's character database.
CharClass classify(uint32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (u_isUWhiteSpace(c)) return CharClass::Space;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER: return CharClass::Letter;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER: return CharClass::Digit;
    default: return CharClass::Other;
  }
}

// Length of the contraction ('s 't 're 've 'm 'll 'd) at s[i], or 0; `any_case`: also their
// upper- and mixed-case forms (Llama 3's "(?i:...)").
size_t contraction_length(std::string_view s, size_t i, bool any_case = false) {
  if (s[i] != '\'' || i + 1 >= s.size()) return 0;
  auto lower = [&](size_t k) { return any_case && s[k] >= 'A' && s[k] <= 'Z' ? static_cast<char>(s[k] - 'A' + 'a') : s[k]; };
  const char c = lower(i + 1);
  if (c == 's' || c == 't' || c == 'm' || c == 'd') return 2;
  if (i + 2 < s.size()) {
    const char two[2] = {c, lower(i + 2)};
    const std::string_view t(two, 2);
    if (t == "re" || t == "ve" || t == "ll") return 3;
  }
  return 0;
}

bool is_newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

}  // namespace

std::vector<std::string_view> gpt2_pretokenize(std::string_view text, bool split_digits) {
  std::vector<std::string_view> words;
  if (split_digits) {
    // A first pass cuts every \p{N} code point out as its own piece; the regex then runs
    // on each stretch between them, its look-ahead ending where the stretch ends.
    size_t start = 0;
    for (size_t i = 0; i < text.size();) {
      const auto [cp, len] = decode_utf8(text, i);
      if (classify(cp) == CharClass::Digit) {
        for (const auto w : gpt2_pretokenize(text.substr(start, i - start), false)) words.push_back(w);
        words.push_back(text.substr(i, len));
        start = i + len;
      }
      i += len;
    }
    for (const auto w : gpt2_pretokenize(text.substr(start), false)) words.push_back(w);
    return words;
  }
  auto class_at = [&](size_t i) { return classify(decode_utf8(text, i).first); };
  auto run_end = [&](size_t i, CharClass c) {  // end of the run of class c starting at i
    while (i < text.size() && class_at(i) == c) i += decode_utf8(text, i).second;
    return i;
  };
  for (size_t i = 0; i < text.size();) {
    size_t end;
    if (const size_t c = contraction_length(text, i); c > 0) {
      end = i + c;
    } else if (text[i] == ' ' && i + 1 < text.size() && class_at(i + 1) != CharClass::Space) {
      end = run_end(i + 1, class_at(i + 1));  // " ?\p{L}+" and its digit / symbol siblings
    } else if (const CharClass c = class_at(i); c != CharClass::Space) {
      end = run_end(i, c);
    } else {
      end = run_end(i, CharClass::Space);
      // "\s+(?!\S)": before a word, the last whitespace character is left to the word.
      if (end < text.size()) {
        size_t last = i;
        for (size_t k = i; k < end; k += decode_utf8(text, k).second) last = k;
        if (last > i) end = last;
      }
    }
    words.push_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

// Llama 3's pre-tokenizer regex, alternative by alternative in its order (the first that
// matches at a position wins, each greedy):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} |
//    ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
std::vector<std::string_view> llama3_pretokenize(std::string_view text) {
  std::vector<std::string_view> words;
  auto cp_at = [&](size_t i) { return decode_utf8(text, i); };
  auto class_at = [&](size_t i) { return classify(cp_at(i).first); };
  auto run_end = [&](size_t i, CharClass c) {
    while (i < text.size() && class_at(i) == c) i += cp_at(i).second;
    return i;
  };
  for (size_t i = 0; i < text.size();) {
    const auto [cp, len] = cp_at(i);
    const CharClass c = classify(cp);
    const size_t next = i + len;
    size_t end = 0;
    if (const size_t k = contraction_length(text, i, true); k > 0) {
      end = i + k;
    } else if (c == CharClass::Letter) {
      end = run_end(i, CharClass::Letter);
    } else if (c != CharClass::Digit && !is_newline(cp) && next < text.size() && class_at(next) == CharClass::Letter) {
      end = run_end(next, CharClass::Letter);  // one leading non-letter, non-digit character
    } else if (c == CharClass::Digit) {
      end = i;
      for (int n = 0; n < 3 && end < text.size() && class_at(end) == CharClass::Digit; ++n) end += cp_at(end).second;
    } else if (c == CharClass::Other || (cp == ' ' && next < text.size() && class_at(next) == CharClass::Other)) {
      end = run_end(c == CharClass::Other ? i : next, CharClass::Other);
      while (end < text.size() && is_newline(static_cast<uint8_t>(text[end]))) ++end;
    } else {  // whitespace
      const size_t space_end = run_end(i, CharClass::Space);
      size_t last_newline_end = 0, last = i;
      for (size_t k = i; k < space_end; k += cp_at(k).second) {
        last = k;
        if (is_newline(cp_at(k).first)) last_newline_end = k + 1;
      }
      if (last_newline_end > 0) {
        end = last_newline_end;  // \s*[\r\n]+ : through the run's last newline
      } else if (space_end == text.size() || last == i) {
        end = space_end;  // \s+(?!\S) at the end of the text, or \s+ for a single character
      } else {
        end = last;  // \s+(?!\S): the last whitespace character goes with what follows
      }
    }
    words.push_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

PreTokenizer pre_tokenizer_of(const std::string& pre) {
  for (const char* name : {"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b", "mellum2"})
    if (pre == name) return PreTokenizer::Gpt2SplitDigits;
  // llama.cpp's LLAMA_VOCAB_PRE_TYPE_LLAMA3 group.
  for (const char* name : {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"})
    if (pre == name) return PreTokenizer::Llama3;
  return PreTokenizer::Gpt2;
}

std::vector<std::string_view> pretokenize(std::string_view text, PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::Llama3: return llama3_pretokenize(text);
    case PreTokenizer::Gpt2SplitDigits: return gpt2_pretokenize(text, true);
    default: return gpt2_pretokenize(text, false);
  }
}

}  // namespace detail

std::vector<int32_t> Tokenizer::encode_gpt2(std::string_view text) const {
  std::vector<int32_t> ids;
  for (const std::string_view word : detail::pretokenize(text, pre_tokenizer_)) encode_gpt2_word(word, ids);
  return ids;
}

// One pre-token: its bytes become their printable stand-ins, one symbol each, then merges
// apply by rank (lowest first).
void Tokenizer::encode_gpt2_word(std::string_view word, std::vector<int32_t>& out) const {
  std::string mapped;
  std::vector<detail::BpeSymbol> symbols;
  for (const char ch : word) {
    const std::string& c = byte_chars_[static_cast<uint8_t>(ch)];
    symbols.push_back({static_cast<uint32_t>(mapped.size()), static_cast<uint32_t>(c.size()), true});
    mapped += c;
  }
  const std::string_view view(mapped);
  // Llama 3's tokenizers take a pre-token that is itself a vocabulary entry whole, whatever
  // the merges would make of it (llama.cpp's ignore_merges).
  if (pre_tokenizer_ == PreTokenizer::Llama3)
    if (const int32_t id = find_piece(view); id >= 0) return out.push_back(id);
  std::string key;
  const auto merged = detail::bpe_merge(symbols, [&](const detail::BpeSymbol& l, const detail::BpeSymbol& r) {
    key.assign(view.substr(l.start, l.len)).append(" ").append(view.substr(r.start, r.len));
    const auto it = merge_ranks_.find(key);
    return it == merge_ranks_.end() ? std::nullopt : std::optional<double>(-static_cast<double>(it->second));
  });
  for (const auto& s : merged) {
    const std::string_view piece = view.substr(s.start, s.len);
    if (const int32_t id = find_piece(piece); id >= 0) {
      out.push_back(id);
      continue;
    }
    // A merge result missing from the vocabulary: fall back to its characters.
    for (size_t i = 0; i < piece.size();) {
      const size_t len = detail::decode_utf8(piece, i).second;
      const int32_t id = find_piece(piece.substr(i, len));
      out.push_back(id >= 0 ? id : unknown_id());
      i += len;
    }
  }
}

}  // namespace llvq
