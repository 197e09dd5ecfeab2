#include "data/batches.hpp"

#include <cstring>
#include <string>

#include "core/config.hpp"
#include "core/rng.hpp"

namespace normlab {

BatchSampler::BatchSampler(const std::vector<int32_t>& tokens, int B, int T, uint64_t seed,
                           const char* what)
    : tokens_(tokens), B_(B), T_(T), seed_(seed) {
  if (B <= 0 || T <= 0)
    throw UserError(std::string(what) + ": batch size and context length must be positive (B=" +
                    std::to_string(B) + ", T=" + std::to_string(T) + ")");
  if (tokens.size() < static_cast<size_t>(T) + 1)
    throw UserError(std::string(what) + ": holds " + std::to_string(tokens.size()) +
                    " tokens, fewer than context length + 1 = " + std::to_string(T + 1));
}

// Row r of training batch k starts at
//   start = splitmix64(splitmix64(seed ^ splitmix64(k)) + r) mod (N - T),
// so every start in [0, N-T-1] (a full window of T+1 tokens) is reachable; the modulo bias is
// below (N - T) / 2^64 and negligible.
void BatchSampler::sample(uint64_t index, int32_t* inputs, int32_t* targets) const {
  const uint64_t n_starts = tokens_.size() - static_cast<uint64_t>(T_);
  const uint64_t key = splitmix64(seed_ ^ splitmix64(index));
  const size_t T = static_cast<size_t>(T_);
  for (int r = 0; r < B_; ++r) {
    const uint64_t start = splitmix64(key + static_cast<uint64_t>(r)) % n_starts;
    const int32_t* w = tokens_.data() + start;
    std::memcpy(inputs + static_cast<size_t>(r) * T, w, T * sizeof(int32_t));
    std::memcpy(targets + static_cast<size_t>(r) * T, w + 1, T * sizeof(int32_t));
  }
}

// Evaluation windows: window w covers tokens [w*T, w*T + T] (T+1 tokens; consecutive windows share
// one boundary token so every token after the first is predicted exactly once), for
// w < W = floor((N - 1) / T). Row j of eval batch k is window (k*B + j) mod W; the last batch wraps
// around to the first windows when W is not a multiple of B.
uint64_t BatchSampler::num_eval_batches() const {
  const uint64_t W = (tokens_.size() - 1) / static_cast<uint64_t>(T_);
  const uint64_t B = static_cast<uint64_t>(B_);
  return (W + B - 1) / B;
}

void BatchSampler::eval_batch(uint64_t index, int32_t* inputs, int32_t* targets) const {
  const uint64_t W = (tokens_.size() - 1) / static_cast<uint64_t>(T_);
  const size_t T = static_cast<size_t>(T_);
  for (int r = 0; r < B_; ++r) {
    const uint64_t w = (index * static_cast<uint64_t>(B_) + static_cast<uint64_t>(r)) % W;
    const int32_t* p = tokens_.data() + w * T;
    std::memcpy(inputs + static_cast<size_t>(r) * T, p, T * sizeof(int32_t));
    std::memcpy(targets + static_cast<size_t>(r) * T, p + 1, T * sizeof(int32_t));
  }
}

}  // namespace normlab
