// One aligned pair of a parallel corpus: a source segment and its translation.
#pragma once
#include <string>

namespace normlab {

struct SegmentPair {
  std::string src, tgt;
  bool operator==(const SegmentPair&) const = default;
};

}  // namespace normlab
