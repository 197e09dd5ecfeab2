// Training batches: B windows of T+1 consecutive tokens, inputs = window[0..T), targets =
// window[1..T]. Batch k depends only on (seed, k), so resuming at step s replays exactly the
// batches an uninterrupted run would have seen, and thread count plays no part.
#pragma once
#include <cstdint>
#include <vector>

namespace normlab {

class BatchSampler {
 public:
  // Throws UserError if the stream has fewer than T+1 tokens (message names `what`).
  BatchSampler(const std::vector<int32_t>& tokens, int B, int T, uint64_t seed, const char* what);
  // Random windows for training batch `index`.
  void sample(uint64_t index, int32_t* inputs, int32_t* targets) const;
  // Deterministic, non-overlapping windows for evaluation: batch `index` of num_eval_batches().
  void eval_batch(uint64_t index, int32_t* inputs, int32_t* targets) const;
  uint64_t num_eval_batches() const;

 private:
  const std::vector<int32_t>& tokens_;
  int B_, T_;
  uint64_t seed_;
};

}  // namespace normlab
