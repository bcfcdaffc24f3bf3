// `llvq lattice info|search|rank|unrank` and `llvq bench lattice` (docs/lattice.md).
#include <cmath>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "llvq/error.hpp"
#include "llvq/leech.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/leech_ball_index.hpp"
#include "llvq/leech_shells.hpp"
#include "llvq/report.hpp"
#include "llvq/voronoi_code.hpp"

namespace llvq::cli {
namespace {

using leech::kDim;

std::string line_error(size_t line, const std::string& what) { return "line " + std::to_string(line) + ": " + what; }

std::vector<std::string> tokens(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

void expect_count(const std::vector<std::string>& t, size_t want, size_t line) {
  if (t.size() != want)
    throw InputError(line_error(line, "expected " + std::to_string(want) + (want == 1 ? " number" : " numbers") +
                                          ", got " + std::to_string(t.size())));
}

float parse_float(const std::string& s, size_t line) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') throw InputError(line_error(line, "not a number: '" + s + "'"));
  const float f = static_cast<float>(v);
  if (!std::isfinite(f)) throw InputError(line_error(line, "value '" + s + "' is NaN, infinite or out of float range"));
  return f;
}

int64_t parse_int(const std::string& s, size_t line, int64_t lo, int64_t hi) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size() || s.find_first_not_of("0123456789", i) != std::string::npos || s.size() - i > 18)
    throw InputError(line_error(line, "not an integer in range: '" + s + "'"));
  const int64_t v = std::stoll(s);
  if (v < lo || v > hi) throw InputError(line_error(line, "integer out of range: '" + s + "'"));
  return v;
}

uint64_t parse_index(const std::string& s, size_t line, uint64_t size) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19)
    throw InputError(line_error(line, "not an index: '" + s + "'"));
  const uint64_t v = std::stoull(s);
  if (v >= size)
    throw InputError(line_error(line, "index " + s + " out of range (the ball has " + std::to_string(size) + " points)"));
  return v;
}

std::string point_text(const leech::Vec& v) {
  std::string s;
  for (int i = 0; i < kDim; ++i) {
    if (i) s += ' ';
    s += std::to_string(v[i]);
  }
  return s;
}

// Runs `body(line_text, line_number)` for every line of stdin; errors name the line.
template <class Body>
void for_each_line(Body body) {
  std::string text;
  for (size_t line = 1; std::getline(std::cin, text); ++line) {
    try {
      body(text, line);
    } catch (const InputError&) {
      std::fflush(stdout);
      throw;
    } catch (const std::exception& e) {
      std::fflush(stdout);
      throw InputError(line_error(line, e.what()));
    }
  }
}

void run_info(int max_shell, bool json) {
  if (max_shell < 2 || max_shell > shells::kMaxClassShell)
    throw InputError("--max-shell must be in 2.." + std::to_string(shells::kMaxClassShell));
  nlohmann::json shells_json = nlohmann::json::array();
  Table table({"m", "points", "classes", "cumulative (with origin)"});
  shells::u128 total = 1;  // the origin
  for (int m = 2; m <= max_shell; ++m) {
    const shells::u128 count = shells::theta_count(m);
    const size_t classes = shells::classes_of_shell(m).size();
    total += count;
    shells_json.push_back({{"m", m}, {"count", shells::to_decimal(count)}, {"classes", classes}});
    table.add_row({std::to_string(m), shells::to_decimal(count), std::to_string(classes), shells::to_decimal(total)});
  }
  const int bits = shells::ceil_log2(total);
  if (json) {
    const nlohmann::json out = {{"shells", shells_json}, {"points", shells::to_decimal(total)}, {"bits", bits}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("Λ24(%d) = origin ∪ shells 2..%d\n%s", max_shell, max_shell, table.to_string().c_str());
    std::printf("points: %s (origin included), index bits: %d\n", shells::to_decimal(total).c_str(), bits);
  }
}

void run_search(int max_shell, const std::string& metric, double scale) {
  const LeechBall& ball = LeechBall::get(max_shell);
  const bool angular = metric == "angular";
  if (!angular && !(std::isfinite(scale) && scale > 0)) throw InputError("--scale must be finite and positive");
  for_each_line([&](const std::string& text, size_t line) {
    const auto t = tokens(text);
    expect_count(t, kDim, line);
    std::array<float, kDim> x{};
    for (int i = 0; i < kDim; ++i) x[i] = parse_float(t[i], line);
    const auto r = angular ? ball.search_angular(x.data()) : ball.search_euclidean(x.data(), scale);
    std::printf("%llu %s\n", static_cast<unsigned long long>(r.index), point_text(r.point).c_str());
  });
}

void run_unrank(int max_shell) {
  const LeechBall& ball = LeechBall::get(max_shell);
  for_each_line([&](const std::string& text, size_t line) {
    const auto t = tokens(text);
    expect_count(t, 1, line);
    std::printf("%s\n", point_text(ball.unrank(parse_index(t[0], line, ball.size()))).c_str());
  });
}

void run_rank(int max_shell) {
  const LeechBall& ball = LeechBall::get(max_shell);
  for_each_line([&](const std::string& text, size_t line) {
    const auto t = tokens(text);
    expect_count(t, kDim, line);
    leech::Vec v{};
    for (int i = 0; i < kDim; ++i) v[i] = static_cast<int32_t>(parse_int(t[i], line, INT32_MIN, INT32_MAX));
    try {
      std::printf("%llu\n", static_cast<unsigned long long>(ball.rank(v)));
    } catch (const InputError& e) {
      throw InputError(line_error(line, e.what()));
    }
  });
}

// --- bench -------------------------------------------------------------------------------

struct BenchRow {
  std::string op;
  std::optional<int> max_shell;
  std::optional<int> bits;
  double blocks_per_s;
};

// CPU time of the calling thread: "per core" figures that other processes sharing the
// machine do not distort.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Calls `op(i)` for i = 0, 1, ... in rounds of `n` until `seconds` of thread CPU time.
template <class Op>
double blocks_per_second(size_t n, double seconds, Op op) {
  const double start = thread_seconds();
  size_t done = 0;
  double elapsed = 0;
  do {
    for (size_t i = 0; i < n; ++i) op(i);
    done += n;
    elapsed = thread_seconds() - start;
  } while (elapsed < seconds);
  return static_cast<double>(done) / elapsed;
}

volatile uint64_t g_sink;  // keeps benchmarked results alive

void run_bench(bool json, double seconds, size_t blocks) {
  std::mt19937_64 rng(12345);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<std::array<float, kDim>> x(blocks);
  for (auto& b : x)
    for (float& v : b) v = gauss(rng);
  std::vector<BenchRow> rows;
  for (int m : {12, 13}) {
    const LeechBall& ball = LeechBall::get(m);
    rows.push_back({"search_angular", m, ball.bits(), blocks_per_second(blocks, seconds, [&](size_t i) {
                      g_sink = ball.search_angular(x[i].data()).index;
                    })});
  }
  const LeechBall& ball13 = LeechBall::get(13);
  // Scale 2.5 puts N(0,1) blocks (|x| ≈ 4.9) near shell 9 (|v| = 4√m ≈ 12), inside Λ24(13).
  rows.push_back({"search_euclidean", 13, ball13.bits(), blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = ball13.search_euclidean(x[i].data(), 2.5).index;
                  })});
  std::vector<uint64_t> idx(blocks);
  std::uniform_int_distribution<uint64_t> any(0, ball13.size() - 1);
  for (auto& i : idx) i = any(rng);
  std::vector<leech::Vec> pts(blocks);
  for (size_t i = 0; i < blocks; ++i) pts[i] = ball13.unrank(idx[i]);
  rows.push_back({"unrank", 13, 48, blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = static_cast<uint64_t>(ball13.unrank(idx[i])[0]);
                  })});
  rows.push_back({"rank", 13, 48, blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = ball13.rank(pts[i]);
                  })});
  for (int bits : {72, 96}) {
    const VoronoiCode code(bits);
    std::vector<VoronoiCode::Index> vidx(blocks);
    for (auto& i : vidx) i = (VoronoiCode::Index{rng()} << 64 | rng()) & (code.size() - 1);
    std::vector<leech::Vec> vpts(blocks);
    for (size_t i = 0; i < blocks; ++i) vpts[i] = code.unrank(vidx[i]);
    rows.push_back({"unrank", std::nullopt, bits, blocks_per_second(blocks, seconds, [&](size_t i) {
                      g_sink = static_cast<uint64_t>(code.unrank(vidx[i])[0]);
                    })});
    rows.push_back({"rank", std::nullopt, bits, blocks_per_second(blocks, seconds, [&](size_t i) {
                      g_sink = static_cast<uint64_t>(code.rank(vpts[i]));
                    })});
  }
  // The direction codebooks of llvq-sg at 3 and 4 bpw: the ball Λ24(45) (128-bit index,
  // radius-scan search) and the Voronoi code J/14J.
  const LeechBallIndex& ball45 = LeechBallIndex::get(45);
  rows.push_back({"search_direction", 45, ball45.bits(), blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = static_cast<uint64_t>(ball45.search_direction(x[i].data()).index);
                  })});
  std::vector<LeechBallIndex::Index> bidx(blocks);
  for (auto& i : bidx) i = (LeechBallIndex::Index{rng()} << 64 | rng()) % ball45.size();
  std::vector<leech::Vec> bpts(blocks);
  for (size_t i = 0; i < blocks; ++i) bpts[i] = ball45.unrank(bidx[i]);
  rows.push_back({"unrank", 45, ball45.bits(), blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = static_cast<uint64_t>(ball45.unrank(bidx[i])[0]);
                  })});
  rows.push_back({"rank", 45, ball45.bits(), blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = static_cast<uint64_t>(ball45.rank(bpts[i]));
                  })});
  const VoronoiCode j14 = VoronoiCode::with_modulus(14);
  rows.push_back({"search_direction", std::nullopt, j14.bits(), blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = static_cast<uint64_t>(j14.search_direction(x[i].data()).index);
                  })});
  // Gaussian blocks scaled by 4 so the decoder works at a typical 3-bit resolution.
  std::vector<std::array<float, kDim>> scaled = x;
  for (auto& b : scaled)
    for (float& v : b) v *= 4.0f;
  rows.push_back({"nearest_point", std::nullopt, std::nullopt, blocks_per_second(blocks, seconds, [&](size_t i) {
                    g_sink = static_cast<uint64_t>(leech::nearest_point(scaled[i].data())[0]);
                  })});

  if (json) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json j = {{"op", r.op}, {"blocks_per_s", r.blocks_per_s}};
      j["max_shell"] = r.max_shell ? nlohmann::json(*r.max_shell) : nlohmann::json(nullptr);
      j["bits"] = r.bits ? nlohmann::json(*r.bits) : nlohmann::json(nullptr);
      results.push_back(j);
    }
    std::printf("%s\n", nlohmann::json{{"results", results}}.dump().c_str());
    return;
  }
  Table table({"op", "max_shell", "bits", "blocks/s (1 core)"});
  for (const auto& r : rows)
    table.add_row({r.op, r.max_shell ? std::to_string(*r.max_shell) : "-", r.bits ? std::to_string(*r.bits) : "-",
                   strfmt("%.0f", r.blocks_per_s)});
  std::printf("%s", table.to_string().c_str());
}

}  // namespace

void register_lattice_commands(CLI::App& app, CLI::App& bench) {
  CLI::App* lattice = app.add_subcommand("lattice", "Leech lattice balls Λ24(M): shell table, search, rank, unrank");
  lattice->require_subcommand(1);

  auto* info = lattice->add_subcommand("info", "Shell sizes, class counts, points and index bits of Λ24(M)");
  auto info_shell = std::make_shared<int>(13);
  auto info_json = std::make_shared<bool>(false);
  info->add_option("--max-shell", *info_shell, "Largest shell M (2.." + std::to_string(shells::kMaxClassShell) + ")")
      ->required();
  info->add_flag("--json", *info_json, "Print JSON instead of a table");
  info->callback([=] { run_info(*info_shell, *info_json); });

  auto* search = lattice->add_subcommand(
      "search", "Exact search over Λ24(M): reads 24 floats per line from stdin, writes the index and the point");
  auto search_shell = std::make_shared<int>(13);
  auto metric = std::make_shared<std::string>("angular");
  auto scale = std::make_shared<double>(1.0);
  search->add_option("--max-shell", *search_shell, "Largest shell M (2..16)")->required();
  search->add_option("--metric", *metric, "angular: max <x,v>/|v| over v ≠ 0; euclidean: min |scale·x − v|²")
      ->required()
      ->check(CLI::IsMember({"angular", "euclidean"}));
  search->add_option("--scale", *scale, "Scale applied to x for the Euclidean metric (default 1)");
  search->callback([=] { run_search(*search_shell, *metric, *scale); });

  auto* unrank = lattice->add_subcommand("unrank", "Reads one index per line, writes the 24 integer coordinates");
  auto unrank_shell = std::make_shared<int>(13);
  unrank->add_option("--max-shell", *unrank_shell, "Largest shell M (2..16)")->required();
  unrank->callback([=] { run_unrank(*unrank_shell); });

  auto* rank = lattice->add_subcommand("rank", "Reads 24 integer coordinates per line, writes the index");
  auto rank_shell = std::make_shared<int>(13);
  rank->add_option("--max-shell", *rank_shell, "Largest shell M (2..16)")->required();
  rank->callback([=] { run_rank(*rank_shell); });

  auto* b = bench.add_subcommand("lattice", "Blocks per second per core (thread CPU time): search, rank/unrank at 48/72/96 bits, the 3/4-bit direction searches, decoder");
  auto bench_json = std::make_shared<bool>(false);
  auto bench_seconds = std::make_shared<double>(1.0);
  auto bench_blocks = std::make_shared<size_t>(2048);
  b->add_flag("--json", *bench_json, "Print JSON instead of a table");
  b->add_option("--seconds", *bench_seconds, "Minimum time per measurement (default 1)")
      ->check(CLI::Range(0.01, 60.0));
  b->add_option("--blocks", *bench_blocks, "Distinct seeded inputs per measurement round (default 2048)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  b->callback([=] { run_bench(*bench_json, *bench_seconds, *bench_blocks); });
}

}  // namespace llvq::cli
