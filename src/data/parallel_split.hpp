// The train/valid/test split of a cleaned parallel corpus: pairs that are near-duplicates of each
// other (the same source or the same target once case, punctuation and spacing are ignored) form
// a group, and each group's part comes from a hash of its smallest source, so no source or
// reference of one part reappears in another and a group keeps its part when the corpus grows
// (docs/parallel-corpus.md, "Split").
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/segment_pair.hpp"

namespace normlab {

enum class SplitPart { kTrain = 0, kValid = 1, kTest = 2 };

// What grouping near-duplicates did to the split (meta.json "split").
struct SplitStats {
  size_t groups = 0;          // groups of two or more pairs
  size_t grouped_pairs = 0;   // pairs in those groups
  size_t largest_group = 0;   // pairs in the largest group
  size_t moved = 0;           // pairs whose part differs from the one their own source would get
  size_t moved_to_train = 0;  // of them, pairs taken out of valid or test into train
};

// Part of each pair. Pairs are joined (transitively) when their sources have the same
// near_duplicate_key, or their targets do; a key that is empty joins nothing. A group's u in
// [0, 1) is hash(seed, smallest source of the group), so a pair without near-duplicates gets
// the u of its own source; valid if u < valid_fraction, test if
// u < valid_fraction + test_fraction, else train. With n >= 3 pairs each part gets at least one
// group: an empty valid (test) part takes the train group with the smallest (largest) u, unless
// that group holds all of train. `stats`, if given, receives the counts above.
std::vector<SplitPart> assign_splits(const std::vector<SegmentPair>& pairs, uint64_t seed,
                                     double valid_fraction, double test_fraction,
                                     SplitStats* stats = nullptr);

}  // namespace normlab
