// The train/valid/test split of a cleaned parallel corpus: each pair's part comes from a hash of
// its source, so a pair keeps its part when the corpus grows (docs/parallel-corpus.md, "Split").
#pragma once
#include <cstdint>
#include <vector>

#include "data/segment_pair.hpp"

namespace normlab {

enum class SplitPart { kTrain = 0, kValid = 1, kTest = 2 };

// Part of each pair from u = hash(seed, source text) in [0, 1): valid if u < valid_fraction, test
// if u < valid_fraction + test_fraction, else train. Depends only on the seed and the source, so
// a pair keeps its part when the corpus grows. With n >= 3 pairs, each part gets at least one:
// an empty valid (test) part takes the train pair with the smallest (largest) u.
std::vector<SplitPart> assign_splits(const std::vector<SegmentPair>& pairs, uint64_t seed,
                                     double valid_fraction, double test_fraction);

}  // namespace normlab
