// Greedy BPE merging shared by both tokenizer families. Each round merges the adjacent
// pair with the highest priority, the leftmost one on ties — the rule of llama2.c's encode
// (and of GPT-2's, with priority = -rank). A heap with lazy invalidation makes it
// O(n log n) instead of the O(n²) rescans of the original, which matters for perplexity
// texts of a million characters tokenized in one go.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace llvq::detail {

// A symbol is a byte range of the text being tokenized; unmergeable ones (byte-fallback
// tokens) never join a neighbour.
struct BpeSymbol {
  uint32_t start = 0;
  uint32_t len = 0;
  bool mergeable = true;
};

// `priority(left, right)` gives the priority of merging two adjacent symbols, or nullopt
// when their union is no token. Returns the symbols left when no pair can merge.
template <class Priority>
std::vector<BpeSymbol> bpe_merge(const std::vector<BpeSymbol>& symbols, Priority&& priority) {
  struct Node {
    BpeSymbol sym;
    int prev, next;
    bool alive;
  };
  struct Candidate {
    double priority;
    uint32_t start;  // of the left symbol: the leftmost-first tie-break
    int left, right;
    uint32_t len;  // of the union, to detect that a side changed since it was queued
    bool operator<(const Candidate& o) const {
      return priority != o.priority ? priority < o.priority : start > o.start;
    }
  };
  const int n = static_cast<int>(symbols.size());
  std::vector<Node> nodes(symbols.size());
  for (int i = 0; i < n; ++i) nodes[i] = {symbols[i], i - 1, i + 1 < n ? i + 1 : -1, true};

  std::priority_queue<Candidate> queue;
  auto consider = [&](int l, int r) {
    if (l < 0 || r < 0 || !nodes[l].sym.mergeable || !nodes[r].sym.mergeable) return;
    if (const std::optional<double> p = priority(nodes[l].sym, nodes[r].sym))
      queue.push({*p, nodes[l].sym.start, l, r, nodes[l].sym.len + nodes[r].sym.len});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i, i + 1);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Node& l = nodes[c.left];
    Node& r = nodes[c.right];
    if (!l.alive || !r.alive || l.next != c.right || l.sym.len + r.sym.len != c.len) continue;
    l.sym.len += r.sym.len;
    r.alive = false;
    l.next = r.next;
    if (r.next >= 0) nodes[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }

  std::vector<BpeSymbol> out;
  for (int i = n > 0 ? 0 : -1; i >= 0; i = nodes[i].next) out.push_back(nodes[i].sym);
  return out;
}

}  // namespace llvq::detail
