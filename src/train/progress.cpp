#include "train/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/terminal.hpp"

namespace normlab {

namespace {
// Narrowest bar worth drawing, and the widest (a wider one tells nothing more).
constexpr size_t kMinBar = 10, kMaxBar = 40;
}  // namespace

ProgressBar::ProgressBar(long total, bool enabled, long done_at_start)
    : total_(total),
      start_done_(done_at_start),
      enabled_(enabled && isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600,
                  static_cast<int>(s) / 60 % 60);
  return buf;
}

std::string ProgressBar::timing(long done) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string eta = "?";
  if (done > start_done_)
    eta = format_duration(elapsed / static_cast<double>(done - start_done_) *
                          static_cast<double>(std::max(0L, total_ - done)));
  return "elapsed " + format_duration(elapsed) + "  ETA " + eta;
}

std::string ProgressBar::render(long done, const std::string& status, size_t columns) const {
  const std::string count = std::to_string(done) + "/" + std::to_string(total_);
  const std::string time = timing(done), eta = time.substr(time.find("ETA"));
  // The most informative text that leaves room for a bar.
  const std::vector<std::string> tails = {count + " " + status + "  " + time,
                                          count + " " + status + "  " + eta, count + "  " + time,
                                          count + "  " + eta, count};
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  // The bar keeps one width on a terminal (a third of it); the text beside it gives way.
  const size_t width = std::clamp(columns / 3, kMinBar, kMaxBar);
  for (const std::string& tail : tails) {
    if (text_columns(tail) + 3 + width > columns) continue;  // 3: "[", "] "
    std::string bar(static_cast<size_t>(std::clamp(frac, 0.0, 1.0) * static_cast<double>(width)),
                    '#');
    bar.resize(width, '.');
    return "[" + bar + "] " + tail;
  }
  return cut_to_columns(count + " " + status, columns);
}

void ProgressBar::update(long done, const std::string& status) {
  if (!enabled_) return;
  // One column short of the width: a character in the last column leaves some terminals
  // wrapping onto the next line.
  const int columns = terminal_columns(stderr);
  last_ = render(done, status, static_cast<size_t>(std::max(1, columns - 1)));
  std::fprintf(stderr, "\r%s\033[K", last_.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::line(const std::string& text) {
  if (drawn_) std::fputs("\r\033[K", stderr);
  print_line(stderr, text);
  if (drawn_) {
    std::fputs(last_.c_str(), stderr);
    std::fflush(stderr);
  }
}

void ProgressBar::finish() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

}  // namespace normlab
