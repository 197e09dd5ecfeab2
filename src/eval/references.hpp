// Several reference files (sacreBLEU's `-r ref1 ref2 ...`): which references of a segment count,
// and the signature's number of references.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace normlab::eval {

// sacreBLEU 2.x's defaults these metrics reproduce (the `version:` field of their signatures).
inline constexpr const char* kSacrebleuVersion = "2.3.1";

// Indices k of the references streams[k][i] that segment i is scored against: sacreBLEU leaves
// empty references out, so a segment may have fewer references than there are files. When all
// are empty the segment keeps its first (empty) reference, which is how one reference file has
// always been scored here (sacreBLEU stops with "Empty or `None` reference sentence found").
std::vector<std::size_t> used_references(const std::vector<std::vector<std::string>>& streams,
                                         std::size_t i);

// The signature's nrefs: the number of references every segment has, or "var" if it varies.
std::string count_references(const std::vector<std::vector<std::string>>& streams);

}  // namespace normlab::eval
