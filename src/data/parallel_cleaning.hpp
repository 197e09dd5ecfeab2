// Cleaning of a sentence-aligned corpus: each pair is normalised and checked by a fixed list of
// rules (docs/parallel-corpus.md, "Cleaning"), then pairs repeating a source are reduced to one.
// CleanStats counts why each dropped pair was dropped.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "data/segment_pair.hpp"

namespace normlab {

struct CleanOptions {
  size_t max_chars = 200;          // code points, per side
  double max_ratio = 3.0;          // longer side / shorter side, in code points
  bool strip_accelerators = true;  // on for gettext catalogs, off for plain text files
  std::string placeholder;         // non-empty: replace every format directive with this text
};

// Why pairs were dropped, in the order the rules are applied (docs/parallel-corpus.md).
struct CleanStats {
  size_t input = 0, empty = 0, untranslated = 0, too_long = 0, ratio = 0, directives = 0,
         markup = 0, duplicate = 0, conflicting = 0, kept = 0;
};

// Collapses every run of whitespace (ASCII space, tab, CR, LF, FF, VT, and U+00A0) to one space
// and trims both ends.
std::string normalize_whitespace(std::string_view text);

// Applies the cleaning rules to each pair in order, then removes exact duplicates and, among the
// pairs sharing a source, keeps the most frequent target (first seen on a tie). Output keeps
// the input order of first occurrences.
std::vector<SegmentPair> clean_pairs(const std::vector<SegmentPair>& pairs,
                                     const CleanOptions& options, CleanStats& stats);

}  // namespace normlab
