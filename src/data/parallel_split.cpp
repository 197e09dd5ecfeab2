#include "data/parallel_split.hpp"

#include <array>
#include <string_view>

#include "core/rng.hpp"

namespace normlab {

namespace {

// FNV-1a 64 (Fowler, Noll, Vo) of the bytes of `s`.
uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::vector<SplitPart> assign_splits(const std::vector<SegmentPair>& pairs, uint64_t seed,
                                     double valid_fraction, double test_fraction) {
  // u = top 53 bits of splitmix64(key ^ FNV-1a(source)) / 2^53, key a per-seed stream constant.
  const uint64_t key = splitmix64(seed ^ 0x5D1A7C3E9B2F4086ull);
  const size_t n = pairs.size();
  std::vector<double> u(n);
  std::vector<SplitPart> part(n);
  std::array<size_t, 3> count{};
  for (size_t i = 0; i < n; ++i) {
    u[i] = static_cast<double>(splitmix64(key ^ fnv1a64(pairs[i].src)) >> 11) *
           (1.0 / 9007199254740992.0);
    part[i] = u[i] < valid_fraction                   ? SplitPart::kValid
              : u[i] < valid_fraction + test_fraction ? SplitPart::kTest
                                                      : SplitPart::kTrain;
    ++count[static_cast<size_t>(part[i])];
  }
  auto take_from_train = [&](SplitPart to, bool smallest) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (part[i] != SplitPart::kTrain) continue;
      if (best == n || (smallest ? u[i] < u[best] : u[i] > u[best])) best = i;
    }
    if (best < n && count[0] > 1) {
      part[best] = to;
      --count[0];
      ++count[static_cast<size_t>(to)];
    }
  };
  if (n >= 3 && count[1] == 0) take_from_train(SplitPart::kValid, true);
  if (n >= 3 && count[2] == 0) take_from_train(SplitPart::kTest, false);
  return part;
}

}  // namespace normlab
