// Corpus BLEU (Papineni et al. 2002) exactly as sacreBLEU's defaults compute it (Post 2018):
// tokenizer 13a, case-sensitive, n = 1..4, one reference per segment, smooth_method "exp".
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

// sacreBLEU's score line: "BLEU = 22.37 57.1/28.6/16.7/10.0 (BP = 1.000 ratio = 1.167 hyp_len =
// 7 ref_len = 6)".
std::string format_bleu(const BleuScore& s);

}  // namespace normlab::eval
