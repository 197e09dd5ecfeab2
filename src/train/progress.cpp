#include "train/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace normlab {

ProgressBar::ProgressBar(long total, bool enabled)
    : total_(total),
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

void ProgressBar::update(long done, const std::string& status) {
  if (!enabled_) return;
  if (start_done_ < 0) {
    start_done_ = done;
    start_ = std::chrono::steady_clock::now();
  }
  const int width = 30;
  const double frac = total_ > 0 ? static_cast<double>(done) / total_ : 1.0;
  std::string bar(static_cast<size_t>(frac * width), '#');
  bar.resize(width, '.');
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string eta = "?";
  if (done > start_done_) eta = format_duration(elapsed / (done - start_done_) * (total_ - done));
  std::fprintf(stderr, "\r[%s] %ld/%ld %s ETA %s\033[K", bar.c_str(), done, total_, status.c_str(),
               eta.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_) std::fputc('\n', stderr);
}

}  // namespace normlab
