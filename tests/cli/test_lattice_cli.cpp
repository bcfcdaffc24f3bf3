// The `llvq lattice` and `llvq bench lattice` command-line contract: output formats, round
// trips through the CLI, agreement with the library, and exit code 2 with a message naming
// the line for bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "cli.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/leech_shells.hpp"

namespace llvq {
namespace {

using test::CommandResult;
using test::run_cli;

// Every command reads stdin (`input`, empty by default); stdout is checked apart from stderr.
test::CommandOptions with_input(const std::string& input = "") {
  return {.input = input, .stderr_to = test::Stderr::Separate};
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string vec_text(const leech::Vec& v) {
  std::string s;
  for (int i = 0; i < leech::kDim; ++i) {
    if (i) s += ' ';
    s += std::to_string(v[i]);
  }
  return s;
}

TEST(LatticeCli, InfoJson) {
  const CommandResult r = run_cli("lattice info --max-shell 13 --json", with_input());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["shells"].size(), 12u);
  for (int m = 2; m <= 13; ++m) {
    const auto& s = j["shells"][m - 2];
    EXPECT_EQ(s["m"], m);
    EXPECT_EQ(s["count"], shells::to_decimal(shells::theta_count(m)));
    EXPECT_EQ(s["classes"], shells::classes_of_shell(m).size());
  }
  EXPECT_EQ(j["points"], std::to_string(LeechBall::get(13).size()));
  EXPECT_EQ(j["bits"], 48);
}

TEST(LatticeCli, InfoTable) {
  const CommandResult r = run_cli("lattice info --max-shell 3", with_input());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("196560"), std::string::npos);
  EXPECT_NE(r.out.find("16773120"), std::string::npos);
}

TEST(LatticeCli, SearchMatchesLibrary) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> g;
  std::vector<std::array<float, 24>> xs(20);
  std::string input;
  for (auto& x : xs) {
    for (int i = 0; i < 24; ++i) {
      x[i] = g(rng);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.9g", x[i]);
      if (i) input += ' ';
      input += buf;
    }
    input += "\n";
  }
  const LeechBall& ball = LeechBall::get(12);
  for (const std::string metric : {"angular", "euclidean"}) {
    const CommandResult r =
        run_cli("lattice search --max-shell 12 --metric " + metric + " --scale 2", with_input(input));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto out = lines(r.out);
    ASSERT_EQ(out.size(), xs.size());
    for (size_t k = 0; k < xs.size(); ++k) {
      const auto res = metric == "angular" ? ball.search_angular(xs[k].data()) : ball.search_euclidean(xs[k].data(), 2.0);
      EXPECT_EQ(out[k], std::to_string(res.index) + " " + vec_text(res.point));
    }
  }
}

TEST(LatticeCli, UnrankRankRoundTrip) {
  const LeechBall& ball = LeechBall::get(13);
  std::mt19937_64 rng(8);
  std::vector<uint64_t> idx = {0, 1, ball.size() - 1};
  for (int k = 0; k < 50; ++k) idx.push_back(rng() % ball.size());
  std::string input;
  for (uint64_t i : idx) input += std::to_string(i) + "\n";
  const CommandResult u = run_cli("lattice unrank --max-shell 13", with_input(input));
  ASSERT_EQ(u.status, 0) << u.err;
  const auto pts = lines(u.out);
  ASSERT_EQ(pts.size(), idx.size());
  for (size_t k = 0; k < idx.size(); ++k) EXPECT_EQ(pts[k], vec_text(ball.unrank(idx[k])));
  const CommandResult r = run_cli("lattice rank --max-shell 13", with_input(u.out));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto back = lines(r.out);
  ASSERT_EQ(back.size(), idx.size());
  for (size_t k = 0; k < idx.size(); ++k) EXPECT_EQ(back[k], std::to_string(idx[k]));
}

void expect_error(const std::string& args, const std::string& input, const std::string& needle) {
  const CommandResult r = run_cli(args, with_input(input));
  EXPECT_EQ(r.status, 2) << args << " / " << input;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
}

TEST(LatticeCli, BadInputExitsWithTwo) {
  const std::string ones = "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n";
  const std::string tail = " 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n";  // 23 ones after a first token
  const std::string short_line = "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n";
  expect_error("lattice search --max-shell 13 --metric angular", ones + short_line, "line 2");
  expect_error("lattice search --max-shell 13 --metric angular", "nan" + tail, "line 1");
  expect_error("lattice search --max-shell 13 --metric angular", ones + ones + "inf" + tail, "line 3");
  expect_error("lattice search --max-shell 13 --metric angular", "1e60" + tail, "line 1");
  expect_error("lattice search --max-shell 13 --metric angular", "x" + tail, "line 1");
  expect_error("lattice search --max-shell 13 --metric euclidean --scale 0", ones, "scale");
  expect_error("lattice search --max-shell 13 --metric cosine", ones, "metric");
  expect_error("lattice search --max-shell 17 --metric angular", ones, "max shell");
  expect_error("lattice search --max-shell 1 --metric angular", ones, "max shell");
  expect_error("lattice unrank --max-shell 3", "5\n16969681\n", "line 2");
  expect_error("lattice unrank --max-shell 3", "-1\n", "line 1");
  expect_error("lattice unrank --max-shell 3", "99999999999999999999999\n", "line 1");
  expect_error("lattice unrank --max-shell 3", "1 2\n", "line 1");
  // (1²⁴) is not in the lattice (Σ ≢ 4 mod 8); (8, 0²³) is on shell 4.
  expect_error("lattice rank --max-shell 3", ones, "line 1");
  expect_error("lattice rank --max-shell 3", "8 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "shell 4");
  expect_error("lattice rank --max-shell 3", "1.5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "line 1");
  expect_error("lattice rank --max-shell 3", "0 0 0\n", "line 1");
  expect_error("lattice info --max-shell 99", "", "max-shell");
}

TEST(LatticeCli, BenchJson) {
  const CommandResult r = run_cli("bench lattice --json --seconds 0.01 --blocks 16", with_input());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::set<std::string> ops;
  for (const auto& row : j["results"]) {
    ops.insert(row["op"].get<std::string>());
    EXPECT_GT(row["blocks_per_s"].get<double>(), 0.0);
    EXPECT_TRUE(row.contains("max_shell") && row.contains("bits"));
  }
  EXPECT_EQ(ops, (std::set<std::string>{"search_angular", "search_euclidean", "rank", "unrank", "search_direction",
                                        "nearest_point"}));
}

}  // namespace
}  // namespace llvq
