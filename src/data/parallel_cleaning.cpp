#include "data/parallel_cleaning.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/utf8.hpp"
#include "data/gettext_text_rules.hpp"

namespace normlab {

namespace {

// Per source, counts each target and keeps the most frequent (first seen on a tie), at the place
// of that source's first pair; counts the exact duplicates and the other targets dropped.
std::vector<SegmentPair> keep_one_target_per_source(const std::vector<SegmentPair>& kept,
                                                    CleanStats& stats) {
  struct Candidate {
    size_t index;  // into `kept`, first occurrence
    size_t count;
  };
  std::unordered_map<std::string_view, size_t> group_of;  // source -> group
  std::vector<std::vector<Candidate>> groups;
  size_t distinct = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    auto [it, fresh] = group_of.try_emplace(kept[i].src, groups.size());
    if (fresh) groups.emplace_back();
    auto& g = groups[it->second];
    auto same = std::find_if(g.begin(), g.end(),
                             [&](const Candidate& c) { return kept[c.index].tgt == kept[i].tgt; });
    if (same != g.end()) {
      ++same->count;
      ++stats.duplicate;
    } else {
      g.push_back({i, 1});
      ++distinct;
    }
  }
  std::vector<SegmentPair> out;
  out.reserve(groups.size());
  for (const auto& g : groups) {
    const Candidate* best = &g[0];
    for (const auto& c : g)
      if (c.count > best->count) best = &c;
    out.push_back(kept[best->index]);
  }
  stats.conflicting += distinct - groups.size();
  return out;
}

}  // namespace

std::string normalize_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool nbsp = static_cast<unsigned char>(c) == 0xC2 && i + 1 < text.size() &&
                      static_cast<unsigned char>(text[i + 1]) == 0xA0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || nbsp) {
      pending_space = !out.empty();
      if (nbsp) ++i;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::vector<SegmentPair> clean_pairs(const std::vector<SegmentPair>& pairs,
                                     const CleanOptions& options, CleanStats& stats) {
  stats.input += pairs.size();
  std::vector<SegmentPair> kept;
  for (const auto& p : pairs) {
    std::string src = normalize_whitespace(p.src), tgt = normalize_whitespace(p.tgt);
    if (options.strip_accelerators) {
      src = strip_accelerator(src);
      tgt = strip_accelerator(tgt);
    }
    if (src.empty() || tgt.empty()) {
      ++stats.empty;
      continue;
    }
    if (src == tgt) {
      ++stats.untranslated;
      continue;
    }
    const size_t ls = count_code_points(src), lt = count_code_points(tgt);
    if (ls > options.max_chars || lt > options.max_chars) {
      ++stats.too_long;
      continue;
    }
    if (static_cast<double>(std::max(ls, lt)) >
        options.max_ratio * static_cast<double>(std::min(ls, lt))) {
      ++stats.ratio;
      continue;
    }
    if (format_directives(src) != format_directives(tgt)) {
      ++stats.directives;
      continue;
    }
    if (markup_tags(src) != markup_tags(tgt)) {
      ++stats.markup;
      continue;
    }
    if (!options.placeholder.empty()) {
      src = replace_directives(src, options.placeholder);
      tgt = replace_directives(tgt, options.placeholder);
    }
    kept.push_back({std::move(src), std::move(tgt)});
  }
  std::vector<SegmentPair> out = keep_one_target_per_source(kept, stats);
  stats.kept += out.size();
  return out;
}

}  // namespace normlab
