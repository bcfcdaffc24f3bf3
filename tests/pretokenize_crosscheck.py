"""Oracle for the Llama 3 pre-tokenizer test (tests/test_tokenizer.cpp): Llama 3's regex as
its tokenizer.json states it, run by the third-party `regex` module (Unicode classes \\p{L},
\\p{N}, \\s). Reads a JSON list of texts from argv[1], writes the JSON list of their pieces to
stdout. Exit status 3 when the `regex` module is missing (the test then skips)."""
import json
import sys

try:
    import regex
except ImportError:
    sys.exit(3)

LLAMA3 = regex.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

with open(sys.argv[1], encoding="utf-8") as f:
    texts = json.load(f)
json.dump([LLAMA3.findall(t) for t in texts], sys.stdout)
