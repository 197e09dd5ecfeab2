#include "eval/chrf.hpp"

#include <cstdio>
#include <stdexcept>

#include "core/utf8.hpp"
#include "eval/ngrams.hpp"
#include "eval/references.hpp"
#include "eval/text.hpp"

namespace normlab::eval {

namespace {

// Removes Python whitespace (sacreBLEU: ''.join(line.split())) and records the byte offset of
// every remaining code point, plus the end.
void strip_spaces(std::string_view line, std::string& out, std::vector<std::size_t>& starts) {
  out.clear();
  starts.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    const std::size_t at = i;
    if (is_python_space(next_code_point(line, i))) continue;
    starts.push_back(out.size());
    out.append(line.substr(at, i - at));
  }
  starts.push_back(out.size());
}

}  // namespace

// sacreBLEU 2.x default (eps_smoothing=False), following chrF++.py: over the "effective" orders
// n whose corpus totals hyp_n and ref_n are both > 0, average P_n = match_n / hyp_n and
// R_n = match_n / ref_n separately; then one F-beta of the averages,
//   chrF = 100 * (1 + b^2) P R / (b^2 P + R),  0 if P + R = 0 or no order is effective.
// (Averaging the per-order F-scores instead is sacreBLEU's eps_smoothing=True variant.)
ChrfScore chrf_from_stats(const std::array<std::int64_t, kChrfOrder>& hyp,
                          const std::array<std::int64_t, kChrfOrder>& ref,
                          const std::array<std::int64_t, kChrfOrder>& match) {
  ChrfScore s;
  s.hyp = hyp;
  s.ref = ref;
  s.match = match;
  int effective = 0;
  for (int n = 0; n < kChrfOrder; ++n) {
    if (hyp[n] > 0 && ref[n] > 0) {
      s.avg_precision += double(match[n]) / double(hyp[n]);
      s.avg_recall += double(match[n]) / double(ref[n]);
      ++effective;
    }
  }
  if (effective == 0) {
    s.avg_precision = s.avg_recall = 0;
    return s;
  }
  s.avg_precision /= effective;
  s.avg_recall /= effective;
  if (s.avg_precision + s.avg_recall == 0) return s;
  const double b2 = kChrfBeta * kChrfBeta;
  s.score =
      100.0 * (1 + b2) * s.avg_precision * s.avg_recall / (b2 * s.avg_precision + s.avg_recall);
  return s;
}

ChrfScore corpus_chrf(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size()) throw std::invalid_argument("corpus_chrf: size mismatch");
  return corpus_chrf_multi(hyps, {refs});
}

ChrfScore corpus_chrf_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams) {
  for (const auto& stream : ref_streams)
    if (stream.size() != hyps.size()) throw std::invalid_argument("corpus_chrf: size mismatch");
  using Stats = std::array<std::int64_t, kChrfOrder>;
  const std::int64_t count = std::int64_t(hyps.size());
  // Plain arrays: OpenMP array-section reductions need them.
  std::int64_t hyp[kChrfOrder] = {}, ref[kChrfOrder] = {}, match[kChrfOrder] = {};
  // Integer statistics: the sums do not depend on the partitioning across threads.
#pragma omp parallel reduction(+ : hyp[:kChrfOrder], ref[:kChrfOrder], match[:kChrfOrder])
  {
    std::array<NgramCounts, kChrfOrder> hc;
    NgramCounts rc;
    std::string h, r;
    std::vector<std::size_t> hs, rs;
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      strip_spaces(hyps[i], h, hs);
      Stats seg_hyp{}, best_ref{}, best_match{};
      for (int n = 1; n <= kChrfOrder; ++n) seg_hyp[n - 1] = count_char_ngrams(h, hs, n, hc[n - 1]);
      double best_f = -1;
      for (std::size_t k : used_references(ref_streams, std::size_t(i))) {
        strip_spaces(ref_streams[k][i], r, rs);
        Stats seg_ref{}, seg_match{};
        for (int n = 1; n <= kChrfOrder; ++n) {
          seg_ref[n - 1] = count_char_ngrams(r, rs, n, rc);
          seg_match[n - 1] = clipped_matches(hc[n - 1], rc);
        }
        const double f = chrf_from_stats(seg_hyp, seg_ref, seg_match).score;
        if (f > best_f) best_f = f, best_ref = seg_ref, best_match = seg_match;
      }
      for (int n = 0; n < kChrfOrder; ++n)
        hyp[n] += seg_hyp[n], ref[n] += best_ref[n], match[n] += best_match[n];
    }
  }
  Stats h{}, r{}, m{};
  for (int n = 0; n < kChrfOrder; ++n) h[n] = hyp[n], r[n] = ref[n], m[n] = match[n];
  return chrf_from_stats(h, r, m);
}

std::string chrf_signature(const std::string& nrefs) {
  return "nrefs:" + nrefs + "|case:mixed|eff:yes|nc:6|nw:0|space:no|version:" + kSacrebleuVersion;
}

std::string format_chrf(const ChrfScore& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "chrF2 = %.2f", s.score);
  return buf;
}

}  // namespace normlab::eval
