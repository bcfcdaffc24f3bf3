#include "llvq/report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdarg>

namespace llvq {

std::string strfmt(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, args);
  va_end(args);
  return out;
}

namespace {
std::vector<size_t> column_widths(const std::vector<std::string>& header,
                                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t c = 0; c < header.size(); ++c) w[c] = header[c].size();
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size() && c < w.size(); ++c) w[c] = std::max(w[c], r[c].size());
  return w;
}
}  // namespace

std::string Table::to_string() const {
  const auto w = column_widths(header_, rows_);
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < w.size(); ++c) {
      const std::string& s = c < cells.size() ? cells[c] : std::string();
      if (c) out += "  ";
      out += std::string(w[c] - s.size(), ' ') + s;
    }
    out += '\n';
  };
  line(header_);
  size_t total = 0;
  for (size_t c = 0; c < w.size(); ++c) total += w[c] + (c ? 2 : 0);
  out += std::string(total, '-') + '\n';
  for (const auto& r : rows_) line(r);
  return out;
}

std::string Table::to_markdown() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    out += '|';
    for (size_t c = 0; c < header_.size(); ++c) out += ' ' + (c < cells.size() ? cells[c] : "") + " |";
    out += '\n';
  };
  line(header_);
  out += '|';
  for (size_t c = 0; c < header_.size(); ++c) out += "---|";
  out += '\n';
  for (const auto& r : rows_) line(r);
  return out;
}

Progress::Progress(std::string label, size_t total, bool enabled, ProgressCallback callback)
    : label_(std::move(label)), total_(total), enabled_(enabled), callback_(std::move(callback)),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(size_t done, const std::string& detail) {
  if (callback_) callback_(label_, done, total_, detail);
  if (!enabled_) return;
  const double t = elapsed_seconds();
  const double eta = done > 0 && done < total_ ? t / static_cast<double>(done) * static_cast<double>(total_ - done) : 0.0;
  const std::string msg = strfmt("%s %zu/%zu  %.1fs elapsed  ETA %.1fs  %s", label_.c_str(), done, total_, t,
                                 eta, detail.c_str());
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s", msg.c_str());
  else
    std::fprintf(stderr, "%s\n", msg.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && tty_) std::fprintf(stderr, "\n");
}

}  // namespace llvq
