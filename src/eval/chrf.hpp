// chrF (Popović 2015) as sacreBLEU's default CHRF(): character n-grams n = 1..6 of Unicode code
// points, whitespace removed, case-sensitive, beta = 2, no word n-grams, eps_smoothing off.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace normlab::eval {

constexpr int kChrfOrder = 6;
constexpr double kChrfBeta = 2.0;

struct ChrfScore {
  double score = 0;  // 0..100
  // Per order n: hypothesis n-grams, reference n-grams, clipped matches (summed over the corpus).
  std::array<std::int64_t, kChrfOrder> hyp{}, ref{}, match{};
  double avg_precision = 0, avg_recall = 0;  // 0..1, over the effective orders
};

ChrfScore chrf_from_stats(const std::array<std::int64_t, kChrfOrder>& hyp,
                          const std::array<std::int64_t, kChrfOrder>& ref,
                          const std::array<std::int64_t, kChrfOrder>& match);

// hyps.size() must equal refs.size().
ChrfScore corpus_chrf(const std::vector<std::string>& hyps, const std::vector<std::string>& refs);
// Several references per segment (ref_streams[k][i], as corpus_bleu_multi): as sacreBLEU, each
// segment contributes the statistics of the reference whose sentence-level chrF with it is
// highest (the first on a tie); empty references are left out.
ChrfScore corpus_chrf_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams);
// "nrefs:N|case:mixed|eff:yes|nc:6|nw:0|space:no|version:V".
std::string chrf_signature(const std::string& nrefs);

// sacreBLEU's score line: "chrF2 = 59.73".
std::string format_chrf(const ChrfScore& s);

}  // namespace normlab::eval
