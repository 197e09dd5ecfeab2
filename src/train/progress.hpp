// A one-line progress bar on stderr, drawn only when stderr is a terminal (never a control code
// in a log file): "[####....] done/total STATUS  elapsed E  ETA R", fitted to the terminal's
// width on every redraw (the status, then the elapsed time, give way on a narrow terminal; the
// line never wraps). The ETA is the average rate since the bar started times what is left.
// Lines printed through line() stay on screen above the bar.
#pragma once
#include <chrono>
#include <string>

namespace normlab {

class ProgressBar {
 public:
  // `done_at_start`: units already done when the bar starts (a resumed run's step).
  ProgressBar(long total, bool enabled, long done_at_start = 0);
  void update(long done, const std::string& status);
  // Prints `text` on a line of its own that stays: a drawn bar is cleared first and redrawn
  // below it.
  void line(const std::string& text);
  // "elapsed 12s  ETA 30s" at `done` units ("ETA ?" before the first unit is done), for plain
  // periodic lines when the bar is not drawn.
  std::string timing(long done) const;
  // Ends the bar's line (it stays on screen as it was last drawn).
  void finish();
  bool active() const { return enabled_; }

 private:
  std::string render(long done, const std::string& status, size_t columns) const;
  long total_, start_done_;
  bool enabled_;
  bool drawn_ = false;  // the cursor is on the bar's line
  std::string last_;    // the bar as last drawn
  std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);

}  // namespace normlab
