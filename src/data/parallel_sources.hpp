// Where the pairs of `prepare-parallel` come from: two line-aligned text files, or the GNU gettext
// catalogs (.mo) of one language, each translated message a pair (docs/parallel-corpus.md,
// "Inputs").
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "data/segment_pair.hpp"

namespace normlab {

// DIR/*.mo, sorted; throws UserError naming the directory and the Debian packages that ship
// German catalogs if there are none.
std::vector<std::string> default_catalog_files(
    const std::string& dir = "/usr/share/locale/de/LC_MESSAGES");

// The line-aligned pairs of two text files (a final newline does not start a line, a trailing
// '\r' is dropped). Throws UserError for a missing file, invalid UTF-8 (with the byte offset) or
// differing line counts (naming both files and both counts).
std::vector<SegmentPair> read_parallel_files(const std::string& src_path,
                                             const std::string& tgt_path);

// The messages of gettext catalogs as (msgid, msgstr) pairs, in file order.
struct CatalogPairs {
  std::vector<SegmentPair> pairs;
  std::vector<std::pair<std::string, size_t>> used;  // (catalog, pairs taken), readable ones only
  std::vector<std::string> skipped;                  // why each unreadable catalog was skipped
  size_t invalid_utf8 = 0;                           // entries dropped because a side is not UTF-8
};

// Reads every catalog; one that cannot be read or parsed is skipped (its error in `skipped`).
// Catalogs in a legacy charset would need iconv; their non-UTF-8 entries are dropped.
CatalogPairs read_catalog_pairs(const std::vector<std::string>& files);

}  // namespace normlab
