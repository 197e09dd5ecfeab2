// Corpus BLEU (Papineni et al. 2002) exactly as sacreBLEU 2.x's defaults compute it (Post 2018):
// tokenizer 13a, case-sensitive, n = 1..4, smooth_method "exp", one or several references per
// segment.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace normlab::eval {

struct BleuScore {
  double score = 0;                    // 0..100
  std::array<double, 4> precisions{};  // percent, after smoothing (what sacreBLEU prints)
  std::array<std::int64_t, 4> matches{};
  std::array<std::int64_t, 4> totals{};
  double bp = 0;
  double ratio = 0;  // hyp_len / ref_len
  std::int64_t hyp_len = 0;
  std::int64_t ref_len = 0;
};

// Sufficient statistics summed over the corpus -> score (see bleu.cpp for the formula).
BleuScore bleu_from_stats(const std::array<std::int64_t, 4>& matches,
                          const std::array<std::int64_t, 4>& totals, std::int64_t hyp_len,
                          std::int64_t ref_len);

// hyps.size() must equal refs.size().
BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs);
// Several references per segment (sacreBLEU's `corpus_score(hyps, [refs1, refs2, ...])`):
// ref_streams[k][i] is the k-th reference of segment i; every stream has hyps.size() lines. As
// sacreBLEU: empty references are left out of their segment, a hypothesis n-gram is clipped by
// its largest count in any reference, and r adds the reference length closest to the
// hypothesis's (the shorter on a tie).
BleuScore corpus_bleu_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams);
// sacreBLEU's signature of these settings: "nrefs:N|case:mixed|eff:no|tok:13a|smooth:exp|
// version:V", N = "var" when segments have different numbers of (non-empty) references.
std::string bleu_signature(const std::string& nrefs);

// sacreBLEU's score line: "BLEU = 22.37 57.1/28.6/16.7/10.0 (BP = 1.000 ratio = 1.167 hyp_len =
// 7 ref_len = 6)".
std::string format_bleu(const BleuScore& s);

}  // namespace normlab::eval
