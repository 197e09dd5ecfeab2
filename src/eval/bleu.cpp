#include "eval/bleu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "eval/ngrams.hpp"
#include "eval/references.hpp"
#include "eval/text.hpp"
#include "eval/tokenize_13a.hpp"

namespace normlab::eval {

// BLEU = BP * exp(sum_{n=1..4} log(p_n) / 4),  BP = exp(1 - r/c) if c < r else 1, with
// c = hyp_len, r = ref_len and p_n = 100 * m_n / t_n (clipped matches over hypothesis n-grams,
// both summed over the corpus). sacreBLEU's default smooth_method "exp" (corpus_bleu as well as
// sentence_bleu) replaces a zero m_n by p_n = 100 / (2^k * t_n), k = 1, 2, ... counting the
// zero-match orders so far (mteval-v13a's smoothing). If t_n = 0 (no hypothesis has n tokens) the
// remaining precisions stay 0, log(0) is taken as -9999999999, and BLEU is 0; c = 0 gives 0 too,
// and so does a corpus without a single matching n-gram.
BleuScore bleu_from_stats(const std::array<std::int64_t, 4>& matches,
                          const std::array<std::int64_t, 4>& totals, std::int64_t hyp_len,
                          std::int64_t ref_len) {
  BleuScore s;
  s.matches = matches;
  s.totals = totals;
  s.hyp_len = hyp_len;
  s.ref_len = ref_len;
  s.ratio = ref_len > 0 ? double(hyp_len) / double(ref_len) : 0.0;
  if (hyp_len == 0) return s;
  s.bp = hyp_len < ref_len ? std::exp(1.0 - double(ref_len) / double(hyp_len)) : 1.0;
  // sacreBLEU 2.x stops early when no n-gram of any order matches: BLEU and every precision 0
  // (its issue #141), rather than smoothing all four.
  if (matches[0] == 0 && matches[1] == 0 && matches[2] == 0 && matches[3] == 0) return s;
  double smooth = 1.0;
  for (int n = 0; n < 4; ++n) {
    if (totals[n] == 0) break;
    if (matches[n] == 0) {
      smooth *= 2.0;
      s.precisions[n] = 100.0 / (smooth * double(totals[n]));
    } else {
      s.precisions[n] = 100.0 * double(matches[n]) / double(totals[n]);
    }
  }
  double log_sum = 0;
  for (double p : s.precisions) log_sum += p > 0 ? std::log(p) : -9999999999.0;
  s.score = s.bp * std::exp(log_sum / 4.0);
  return s;
}

BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size()) throw std::invalid_argument("corpus_bleu: size mismatch");
  return corpus_bleu_multi(hyps, {refs});
}

BleuScore corpus_bleu_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams) {
  for (const auto& stream : ref_streams)
    if (stream.size() != hyps.size()) throw std::invalid_argument("corpus_bleu: size mismatch");
  const std::int64_t count = std::int64_t(hyps.size());
  // Plain arrays: OpenMP array-section reductions need them.
  std::int64_t matches[4] = {}, totals[4] = {};
  std::int64_t hyp_len = 0, ref_len = 0;
  // Integer statistics: the sums do not depend on the partitioning across threads.
#pragma omp parallel reduction(+ : hyp_len, ref_len) reduction(+ : matches[:4], totals[:4])
  {
    NgramCounts hc, rc, best;
    std::vector<std::string_view> ht, rt;
    std::vector<std::string> ref_tokens;
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      const std::string h = tokenize_13a(hyps[i]);
      ht.clear();
      split_python(h, ht);
      const std::int64_t c = std::int64_t(ht.size());
      hyp_len += c;
      ref_tokens.clear();
      for (std::size_t k : used_references(ref_streams, std::size_t(i)))
        ref_tokens.push_back(tokenize_13a(ref_streams[k][i]));
      // Closest reference length, the shorter one on a tie (sacreBLEU's _get_closest_ref_len).
      std::int64_t closest = -1;
      for (const std::string& r : ref_tokens) {
        rt.clear();
        split_python(r, rt);
        const std::int64_t len = std::int64_t(rt.size());
        if (closest < 0 || std::llabs(c - len) < std::llabs(c - closest) ||
            (std::llabs(c - len) == std::llabs(c - closest) && len < closest))
          closest = len;
      }
      ref_len += closest;
      for (int n = 1; n <= 4; ++n) {
        totals[n - 1] += count_word_ngrams(ht, n, hc);
        best.clear();  // per n-gram, its largest count in any reference
        for (const std::string& r : ref_tokens) {
          rt.clear();
          split_python(r, rt);
          count_word_ngrams(rt, n, rc);
          for (const auto& [gram, k] : rc) best[gram] = std::max(best[gram], k);
        }
        matches[n - 1] += clipped_matches(hc, best);
      }
    }
  }
  return bleu_from_stats({matches[0], matches[1], matches[2], matches[3]},
                         {totals[0], totals[1], totals[2], totals[3]}, hyp_len, ref_len);
}

std::string bleu_signature(const std::string& nrefs) {
  return "nrefs:" + nrefs + "|case:mixed|eff:no|tok:13a|smooth:exp|version:" + kSacrebleuVersion;
}

std::string format_bleu(const BleuScore& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %lld "
                "ref_len = %lld)",
                s.score, s.precisions[0], s.precisions[1], s.precisions[2], s.precisions[3], s.bp,
                s.ratio, static_cast<long long>(s.hyp_len), static_cast<long long>(s.ref_len));
  return buf;
}

}  // namespace normlab::eval
