#include "data/parallel_split.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/rng.hpp"
#include "data/near_duplicate_key.hpp"

namespace normlab {

namespace {

// FNV-1a 64 (Fowler, Noll, Vo) of the bytes of `s`.
uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Disjoint sets over pair indices (union by size, path halving).
struct DisjointSets {
  std::vector<size_t> parent, size;
  explicit DisjointSets(size_t n) : parent(n), size(n, 1) {
    std::iota(parent.begin(), parent.end(), size_t{0});
  }
  size_t find(size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  }
  void join(size_t a, size_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (size[a] < size[b]) std::swap(a, b);
    parent[b] = a;
    size[a] += size[b];
  }
};

}  // namespace

std::vector<SplitPart> assign_splits(const std::vector<SegmentPair>& pairs, uint64_t seed,
                                     double valid_fraction, double test_fraction,
                                     SplitStats* stats) {
  // u = top 53 bits of splitmix64(key ^ FNV-1a(text)) / 2^53, key a per-seed stream constant.
  const uint64_t key = splitmix64(seed ^ 0x5D1A7C3E9B2F4086ull);
  auto uniform = [key](std::string_view text) {
    return static_cast<double>(splitmix64(key ^ fnv1a64(text)) >> 11) * (1.0 / 9007199254740992.0);
  };
  auto part_of = [&](double u) {
    return u < valid_fraction                   ? SplitPart::kValid
           : u < valid_fraction + test_fraction ? SplitPart::kTest
                                                : SplitPart::kTrain;
  };
  const size_t n = pairs.size();

  // ---- groups: join pairs whose source keys, or whose target keys, are equal
  DisjointSets sets(n);
  std::unordered_map<std::string, size_t> first_with_src, first_with_tgt;
  for (size_t i = 0; i < n; ++i) {
    std::string src_key = near_duplicate_key(pairs[i].src);
    std::string tgt_key = near_duplicate_key(pairs[i].tgt);
    if (!src_key.empty()) sets.join(i, first_with_src.try_emplace(src_key, i).first->second);
    if (!tgt_key.empty()) sets.join(i, first_with_tgt.try_emplace(tgt_key, i).first->second);
  }
  // A group is named by its smallest source, so its u does not depend on the order of the
  // pairs, and a pair without near-duplicates keeps the part its source alone gives it.
  std::vector<const std::string*> name(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    const size_t root = sets.find(i);
    if (!name[root] || pairs[i].src < *name[root]) name[root] = &pairs[i].src;
  }

  std::vector<double> u(n);
  std::vector<size_t> root(n);
  std::vector<SplitPart> part(n);
  std::array<size_t, 3> count{};
  for (size_t i = 0; i < n; ++i) {
    root[i] = sets.find(i);
    u[i] = uniform(*name[root[i]]);
    part[i] = part_of(u[i]);
    ++count[static_cast<size_t>(part[i])];
  }
  auto take_from_train = [&](SplitPart to, bool smallest) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (part[i] != SplitPart::kTrain) continue;
      if (best == n || (smallest ? u[i] < u[best] : u[i] > u[best])) best = i;
    }
    if (best == n || sets.size[root[best]] >= count[0]) return;
    for (size_t i = 0; i < n; ++i) {
      if (root[i] != root[best]) continue;
      part[i] = to;
      --count[0];
      ++count[static_cast<size_t>(to)];
    }
  };
  if (n >= 3 && count[1] == 0) take_from_train(SplitPart::kValid, true);
  if (n >= 3 && count[2] == 0) take_from_train(SplitPart::kTest, false);

  if (stats) {
    *stats = {};
    for (size_t i = 0; i < n; ++i) {
      const size_t size = sets.size[root[i]];
      if (size > 1) {
        stats->grouped_pairs += 1;
        stats->groups += root[i] == i;
        stats->largest_group = std::max(stats->largest_group, size);
      }
      const SplitPart alone = part_of(uniform(pairs[i].src));  // the split without grouping
      stats->moved += alone != part[i];
      stats->moved_to_train += alone != SplitPart::kTrain && part[i] == SplitPart::kTrain;
    }
  }
  return part;
}

}  // namespace normlab
