// Tokenizer tests: llama2.c tokenizers against the independent Python reimplementation of
// llama2.c's encode, hand-derived sequences on tiny vocabularies, a brute-force GPT-2 BPE,
// Llama 3's pre-tokenizer against its regex run by Python's `regex` module, and
// decode(encode(x)) round trips.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "eval_test_util.hpp"
#include "model_test_util.hpp"
#include "llvq/error.hpp"
#include "llvq/tokenizer.hpp"
#include "model/tokenizer_utf8.hpp"

namespace llvq {
namespace {

using evaltest::data_path;

std::vector<int32_t> reference_tokens(const std::string& tokenizer, const std::string& text) {
  llvq::test::TempDir dir("tok");
  llvq::test::write_text(dir.file("text.txt"), text);
  const auto j = evaltest::run_reference("tokenize --tokenizer " + tokenizer + " --text-file " + dir.file("text.txt"));
  return j.at("tokens").get<std::vector<int32_t>>();
}

const std::vector<std::string>& sample_texts() {
  static const std::vector<std::string> texts = {
      "Once upon a time, there was a little girl named Lily.",
      "Hello world",
      "  two leading spaces,  and   runs of    spaces ",
      "Lines\nwith\n\nnewlines\tand tabs",
      "caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94 r\xC3\xA9sum\xC3\xA9",            // Latin-1 letters, em dash
      "emoji \xF0\x9F\x98\x80 and CJK \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",  // 4-byte and 3-byte code points
      "\"Quotes\", (brackets) [x] {y} <z> 12345 3.14159 $%&*#@!",
      "a",
  };
  return texts;
}

class Llama2cTokenizers : public ::testing::TestWithParam<std::string> {};

TEST_P(Llama2cTokenizers, MatchesReferenceEncode) {
  const std::string path = data_path(GetParam());
  const Tokenizer tok(load_llama2c_tokenizer(path));
  for (const std::string& text : sample_texts()) EXPECT_EQ(tok.encode(text, true, false), reference_tokens(path, text)) << text;
}

TEST_P(Llama2cTokenizers, MatchesReferenceOnRealText) {
  const std::string path = data_path(GetParam());
  const Tokenizer tok(load_llama2c_tokenizer(path));
  for (const char* file : {"text/tinystories_val.txt", "text/wiki.test.raw"}) {
    const std::string text = llvq::test::read_text(data_path(file)).substr(0, 12000);
    EXPECT_EQ(tok.encode(text, true, false), reference_tokens(path, text)) << file;
  }
}

TEST_P(Llama2cTokenizers, DecodeInvertsEncode) {
  const Tokenizer tok(load_llama2c_tokenizer(data_path(GetParam())));
  std::vector<std::string> texts = sample_texts();
  texts.push_back("invalid \xFF\xC3 utf-8 \x80");  // byte fallback carries any bytes
  texts.push_back(" leading space");
  for (const std::string& text : texts) {
    const auto ids = tok.encode(text, true, true);
    EXPECT_EQ(ids.front(), tok.bos_id());
    EXPECT_EQ(ids.back(), tok.eos_id());
    EXPECT_EQ(tok.decode(ids), text);
  }
}

TEST_P(Llama2cTokenizers, UntypedVocabularyEncodesTheSame) {
  // GGUF files may omit token types: byte pieces and special ids must still be recognised.
  TokenizerData data = load_llama2c_tokenizer(data_path(GetParam()));
  const Tokenizer typed(data);
  data.token_types.clear();
  const Tokenizer untyped(data);
  for (const std::string& text : sample_texts()) EXPECT_EQ(typed.encode(text, true, true), untyped.encode(text, true, true));
}

INSTANTIATE_TEST_SUITE_P(Files, Llama2cTokenizers,
                         ::testing::Values("models/stories260K/tok512.bin", "tokenizers/llama2/tokenizer.bin"));

TEST(Tokenizer, Llama2cFileConvertedToGgufConvention) {
  const TokenizerData d = load_llama2c_tokenizer(evaltest::stories_tokenizer());
  ASSERT_EQ(d.tokens.size(), 512u);
  EXPECT_EQ(d.bos_id, 1);
  EXPECT_EQ(d.eos_id, 2);
  EXPECT_EQ(d.unk_id, 0);
  EXPECT_EQ(d.tokens[1], "<s>");
  EXPECT_EQ(d.token_types[1], kTokenControl);
  EXPECT_EQ(d.tokens[3 + 0x0A], "<0x0A>");
  EXPECT_EQ(d.token_types[3 + 0x0A], kTokenByte);
  EXPECT_EQ(d.tokens[259], "\xE2\x96\x81t");  // " t" with SentencePiece's space marker
  EXPECT_EQ(d.max_token_length, 7);
}

std::string byte_piece(int b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

// A tiny SentencePiece vocabulary: control tokens, 256 byte tokens, then scored pieces.
TokenizerData tiny_llama_vocab(const std::vector<std::pair<std::string, float>>& pieces) {
  TokenizerData d;
  d.tokens = {"<unk>", "<s>", "</s>"};
  d.token_types = {kTokenUnknown, kTokenControl, kTokenControl};
  for (int b = 0; b < 256; ++b) {
    d.tokens.push_back(byte_piece(b));
    d.token_types.push_back(kTokenByte);
  }
  d.scores.assign(d.tokens.size(), 0.0f);
  for (const auto& [p, s] : pieces) {
    d.tokens.push_back(p);
    d.token_types.push_back(kTokenNormal);
    d.scores.push_back(s);
  }
  return d;
}

TEST(Tokenizer, LlamaMergesHighestScoreFirstAndLeftmostOnTies) {
  const std::string sp = "\xE2\x96\x81";
  // ids 259.. : ▁ a b ab ▁a bb ▁ab
  const Tokenizer tok(tiny_llama_vocab(
      {{sp, 0}, {"a", 0}, {"b", 0}, {"ab", -1}, {sp + "a", -2}, {"bb", -1}, {sp + "ab", -3}}));
  // "▁abb": "ab" and "bb" tie at -1; the left one wins, then "▁ab" (-3); "▁abb" is no piece.
  EXPECT_EQ(tok.encode("abb", true, false), (std::vector<int32_t>{1, 265, 261}));
  // 'c' is not in the vocabulary: byte token 3 + 'c', which never merges.
  EXPECT_EQ(tok.encode("ac", false, false), (std::vector<int32_t>{263, 3 + 'c'}));
  // Two-byte code point without a piece: one byte token per byte.
  EXPECT_EQ(tok.encode("\xC3\xA9", false, false), (std::vector<int32_t>{259, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(tok.encode("", true, true), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{1, 265, 261, 263, 3 + 'c', 2}), "abb ac");
}

TEST(Tokenizer, Gpt2PreTokenizerSplitsLikeTheRegex) {
  const auto words = detail::gpt2_pretokenize("Hello world's 123  test\n\nfoo!!");
  const std::vector<std::string_view> expected = {"Hello", " world", "'s", " 123", " ", " test", "\n", "\n", "foo", "!!"};
  EXPECT_EQ(words, expected);
}

// Expected pieces from Llama 3's regex (tests/pretokenize_crosscheck.py's pattern) by hand:
// case-insensitive contractions, one leading symbol or space on a word, digits in threes,
// symbols with their trailing newlines, whitespace through its last newline.
TEST(Tokenizer, Llama3PreTokenizerSplitsLikeTheRegex) {
  using Pieces = std::vector<std::string_view>;
  EXPECT_EQ(detail::llama3_pretokenize("Hello world's 123  test\n\nfoo!!"),
            (Pieces{"Hello", " world", "'s", " ", "123", " ", " test", "\n\n", "foo", "!!"}));
  EXPECT_EQ(detail::llama3_pretokenize("I'M (here) 12345;\r\n  x"),
            (Pieces{"I", "'M", " (", "here", ")", " ", "123", "45", ";\r\n", " ", " x"}));
  EXPECT_EQ(detail::llama3_pretokenize(" \n \n  a\tb  "), (Pieces{" \n \n", " ", " a", "\tb", "  "}));
  EXPECT_EQ(detail::pre_tokenizer_of("llama-bpe"), PreTokenizer::Llama3);
  EXPECT_EQ(detail::pre_tokenizer_of("smollm"), PreTokenizer::Gpt2SplitDigits);
  EXPECT_EQ(detail::pre_tokenizer_of("some-new-name"), PreTokenizer::Gpt2);
}

// The same against the regex itself, run by Python's `regex` module, on random texts of
// letters (Latin, CJK, Cyrillic), digits (also Arabic-Indic and superscripts), spaces of several
// kinds, newlines, symbols, combining marks, emoji and contractions in every case.
TEST(Tokenizer, Llama3PreTokenizerMatchesTheRegexOnRandomText) {
  const std::vector<std::string> alphabet = {"a", "b", "X", "Z", "\u00e9", "\u00df", "\u4e2d", "\u0436", "0", "1", "7",
                                             "\u0663", "\u00b2", " ", " ", "  ", "\t", "\n", "\r", "\u00a0", "\u3000",
                                             "'", "!", ".", ",", "-", "(", "'s", "'S", "'RE", "'ll", "'Ve", "\u2019",
                                             "\U0001F600", "\u0301"};
  std::mt19937 rng(11);
  nlohmann::json texts = nlohmann::json::array();
  for (int i = 0; i < 5000; ++i) {
    std::string t;
    for (int n = 1 + static_cast<int>(rng() % 16); n > 0; --n) t += alphabet[rng() % alphabet.size()];
    texts.push_back(t);
  }
  test::TempDir dir("pretokenize");
  const std::string input = dir.file("texts.json");
  std::ofstream(input) << texts.dump();
  const std::string python = test::gguf_python();
  const auto r = test::run_command(python + " " + LLVQ_TESTS_DIR + "/pretokenize_crosscheck.py '" + input + "'");
  if (r.status == 3) GTEST_SKIP() << "the regex package is not installed for " << python;
  ASSERT_EQ(r.status, 0) << r.out;
  const auto want = nlohmann::json::parse(r.out);
  ASSERT_EQ(want.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string text = texts[i].get<std::string>();
    std::vector<std::string> got;
    for (const std::string_view w : detail::llama3_pretokenize(text)) got.emplace_back(w);
    ASSERT_EQ(got, want[i].get<std::vector<std::string>>()) << nlohmann::json(text).dump();
  }
}

// A Llama 3 tokenizer takes a pre-token that is a vocabulary entry whole, even where the merges
// would split it; GPT-2's follows the merges.
TEST(Tokenizer, Llama3TakesAWholePreTokenFromTheVocabulary) {
  const auto chars = detail::gpt2_byte_chars();
  TokenizerData d;
  d.model = "gpt2";
  d.bos_id = d.eos_id = d.unk_id = -1;
  for (int b = 0; b < 256; ++b) d.tokens.push_back(chars[b]);
  d.merges = {"a b"};
  d.tokens.push_back("ab");   // 256
  d.tokens.push_back("abc");  // 257: no merge builds it
  const Tokenizer gpt2(d);
  EXPECT_EQ(gpt2.encode("abc", false, false), (std::vector<int32_t>{256, 'c'}));
  d.pre = "llama-bpe";
  const Tokenizer llama3(d);
  EXPECT_EQ(llama3.pre_tokenizer(), PreTokenizer::Llama3);
  EXPECT_EQ(llama3.encode("abc", false, false), (std::vector<int32_t>{257}));
  // Not a vocabulary entry as a whole: the merges apply as for GPT-2.
  EXPECT_EQ(llama3.encode("abcab", false, false), (std::vector<int32_t>{256, 'c', 256}));
}

// GPT-2's original bpe(): repeatedly merge every occurrence of the lowest-ranked pair.
std::vector<std::string> brute_force_bpe(std::vector<std::string> parts, const std::map<std::string, size_t>& ranks) {
  while (parts.size() > 1) {
    size_t best = SIZE_MAX;
    std::string best_pair;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const auto it = ranks.find(parts[i] + " " + parts[i + 1]);
      if (it != ranks.end() && it->second < best) best = it->second, best_pair = it->first;
    }
    if (best == SIZE_MAX) break;
    std::vector<std::string> next;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i + 1 < parts.size() && parts[i] + " " + parts[i + 1] == best_pair) {
        next.push_back(parts[i] + parts[i + 1]);
        ++i;
      } else {
        next.push_back(parts[i]);
      }
    }
    parts = std::move(next);
  }
  return parts;
}

TEST(Tokenizer, Gpt2MatchesBruteForceBpeOnRandomMerges) {
  const auto chars = detail::gpt2_byte_chars();
  std::mt19937 rng(7);
  TokenizerData d;
  d.model = "gpt2";
  d.bos_id = d.eos_id = d.unk_id = -1;
  for (int b = 0; b < 256; ++b) d.tokens.push_back(chars[b]);
  std::vector<std::string> pool = {chars['a'], chars['b'], chars['c'], chars[' ']};
  std::map<std::string, size_t> ranks;
  while (d.merges.size() < 40) {
    const std::string l = pool[rng() % pool.size()], r = pool[rng() % pool.size()];
    if (!ranks.emplace(l + " " + r, d.merges.size()).second) continue;
    d.merges.push_back(l + " " + r);
    d.tokens.push_back(l + r);
    pool.push_back(l + r);
  }
  std::map<std::string, int32_t> ids;
  for (size_t i = 0; i < d.tokens.size(); ++i) ids.emplace(d.tokens[i], static_cast<int32_t>(i));
  const Tokenizer tok(d);
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i) text += "abc "[rng() % 4];
    std::vector<int32_t> expected;
    for (const std::string_view word : detail::gpt2_pretokenize(text)) {
      std::vector<std::string> parts;
      for (const char ch : word) parts.push_back(chars[static_cast<uint8_t>(ch)]);
      for (const std::string& p : brute_force_bpe(parts, ranks)) expected.push_back(ids.at(p));
    }
    EXPECT_EQ(tok.encode(text, false, false), expected) << "\"" << text << "\"";
    EXPECT_EQ(tok.decode(expected), text);
  }
}

TEST(Tokenizer, Gpt2HandDerivedMerges) {
  const auto chars = detail::gpt2_byte_chars();
  TokenizerData d;
  d.model = "gpt2";
  for (int b = 0; b < 256; ++b) d.tokens.push_back(chars[b]);
  const std::string G = chars[' '];  // "Ġ"
  d.merges = {G + " t", "t h", "h e", G + "t h", G + "th e"};
  d.tokens.push_back(G + "t");   // 256
  d.tokens.push_back("he");      // 257
  d.tokens.push_back("th");      // 258
  d.tokens.push_back("<|bos|>");  // 259
  d.token_types.assign(d.tokens.size(), kTokenNormal);
  d.token_types[259] = kTokenControl;
  d.bos_id = 259;
  const Tokenizer tok(d);
  // " the": Ġ t (rank 0) first, then h e (rank 2) before Ġt h (rank 3); "Ġt he" is no merge.
  EXPECT_EQ(tok.encode(" the", true, false), (std::vector<int32_t>{259, 256, 257}));
  // "the": t h (rank 1) beats h e (rank 2); "th e" is no merge.
  EXPECT_EQ(tok.encode("the", false, false), (std::vector<int32_t>{258, 'e'}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{259, 256, 257}), " the");
}

TEST(Tokenizer, BadInputIsRejected) {
  llvq::test::TempDir dir("badtok");
  EXPECT_THROW(load_llama2c_tokenizer(dir.file("missing.bin")), InputError);
  const std::string good = llvq::test::read_text(evaltest::stories_tokenizer());
  llvq::test::write_text(dir.file("cut.bin"), good.substr(0, good.size() - 3));
  EXPECT_THROW(load_llama2c_tokenizer(dir.file("cut.bin")), InputError);
  llvq::test::write_text(dir.file("text.bin"), "this is not a tokenizer at all");
  EXPECT_THROW(load_llama2c_tokenizer(dir.file("text.bin")), InputError);

  TokenizerData d = load_llama2c_tokenizer(evaltest::stories_tokenizer());
  d.scores.pop_back();
  EXPECT_THROW(Tokenizer{d}, InputError);
  d = load_llama2c_tokenizer(evaltest::stories_tokenizer());
  d.model = "wordpiece";
  EXPECT_THROW(Tokenizer{d}, InputError);
  const Tokenizer tok(load_llama2c_tokenizer(evaltest::stories_tokenizer()));
  EXPECT_THROW(tok.decode(512), InputError);
  EXPECT_THROW(tok.decode(-1), InputError);
}

}  // namespace
}  // namespace llvq
