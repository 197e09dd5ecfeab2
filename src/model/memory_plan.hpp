// Activation memory planned in one place (as llm.c): every buffer a forward saves and a backward
// needs is requested with want(), then allocate() lays them out in one arena, each starting a
// multiple of 64 bytes from its start. A model and its stacks fill one plan per (batch, sequence)
// shape; nothing is allocated inside a training step.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace normlab {

class MemoryPlan {
 public:
  void want(float** pointer, size_t floats) { wants_.emplace_back(pointer, floats); }
  // Sets every requested pointer into `arena` (resized and zeroed).
  void allocate(std::vector<float>& arena) {
    size_t total = 0;
    for (auto& w : wants_) total += aligned(w.second);
    arena.assign(total, 0.0f);
    size_t offset = 0;
    for (auto& w : wants_) {
      *w.first = arena.data() + offset;
      offset += aligned(w.second);
    }
    wants_.clear();
  }

 private:
  static size_t aligned(size_t n) { return (n + 15) / 16 * 16; }
  std::vector<std::pair<float**, size_t>> wants_;
};

}  // namespace normlab
