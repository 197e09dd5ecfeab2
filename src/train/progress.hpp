// A one-line progress bar on stderr (only when stderr is a terminal): done/total, a bar, the
// caller's status text and an ETA from the average rate so far.
#pragma once
#include <chrono>
#include <string>

namespace normlab {

class ProgressBar {
 public:
  ProgressBar(long total, bool enabled);
  void update(long done, const std::string& status);
  void finish();
  bool active() const { return enabled_; }

 private:
  long total_, start_done_ = -1;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);

}  // namespace normlab
