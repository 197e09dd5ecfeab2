// Activation memory planned in one place (as llm.c): every buffer a forward saves and a backward
// needs is requested with want(), then allocate() lays them out in one arena, each starting a
// multiple of 64 bytes from its start. A model and its stacks fill one plan per (batch, sequence)
// shape; nothing is allocated inside a training step.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace normlab {

// Measuring instead of allocating: while a MemoryCount is alive on this thread, ParamStore::
// allocate, MemoryPlan::allocate and the models' other size-dependent buffers add up the floats
// they would take and allocate nothing. A model built and planned under it only tells its size
// (train checks it against the machine's memory before building the real one) and must not be
// used.
class MemoryCount {
 public:
  MemoryCount() : outer_(active_) { active_ = this; }
  ~MemoryCount() { active_ = outer_; }
  MemoryCount(const MemoryCount&) = delete;
  MemoryCount& operator=(const MemoryCount&) = delete;
  static MemoryCount* active() { return active_; }

  size_t parameter_floats = 0;   // ParamStore values (gradients take as many again)
  size_t activation_floats = 0;  // the activation arena and per-batch buffers

 private:
  MemoryCount* outer_;
  static inline thread_local MemoryCount* active_ = nullptr;
};

class MemoryPlan {
 public:
  void want(float** pointer, size_t floats) { wants_.emplace_back(pointer, floats); }
  // Sets every requested pointer into `arena` (resized and zeroed).
  void allocate(std::vector<float>& arena) {
    size_t total = 0;
    for (auto& w : wants_) total += aligned(w.second);
    if (MemoryCount* count = MemoryCount::active()) {
      count->activation_floats += total;
      wants_.clear();
      return;
    }
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
