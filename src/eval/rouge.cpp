#include "eval/rouge.hpp"

#include <cstdio>
#include <stdexcept>

#include "core/utf8.hpp"
#include "eval/ngrams.hpp"
#include "eval/text.hpp"

namespace normlab::eval {

namespace {

bool is_alnum_lower(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// F1 = 2 P R / (P + R), 0 when P + R = 0 (rouge_score.scoring.fmeasure).
RougeValue make_value(double p, double r) {
  return {p, r, p + r > 0 ? 2 * p * r / (p + r) : 0.0};
}

struct Workspace {
  std::string hl, rl;
  std::vector<std::string_view> ht, rt;
  NgramCounts hc, rc;
  std::vector<std::size_t> row;
};

// ROUGE-N: overlap = clipped n-gram matches; P = overlap / max(hyp n-grams, 1),
// R = overlap / max(ref n-grams, 1) (rouge_score's _score_ngrams).
RougeValue rouge_n(Workspace& w, int n) {
  const auto hn = count_word_ngrams(w.ht, n, w.hc);
  const auto rn = count_word_ngrams(w.rt, n, w.rc);
  const double overlap = double(clipped_matches(w.hc, w.rc));
  return make_value(overlap / double(hn > 1 ? hn : 1), overlap / double(rn > 1 ? rn : 1));
}

RougeScores score_pair(Workspace& w, std::string_view hyp, std::string_view ref) {
  rouge_tokenize(hyp, w.hl, w.ht);
  rouge_tokenize(ref, w.rl, w.rt);
  RougeScores s;
  s.segments = 1;
  s.rouge1 = rouge_n(w, 1);
  s.rouge2 = rouge_n(w, 2);
  // ROUGE-L: P = LCS / |hyp|, R = LCS / |ref|; all zero when either side has no token.
  if (!w.ht.empty() && !w.rt.empty()) {
    const double lcs = double(lcs_length(w.ht, w.rt, w.row));
    s.rougeL = make_value(lcs / double(w.ht.size()), lcs / double(w.rt.size()));
  }
  return s;
}

}  // namespace

void rouge_tokenize(std::string_view text, std::string& lowered,
                    std::vector<std::string_view>& tokens) {
  // Python's str.lower() maps only two non-ASCII characters into [a-z]: U+0130 (-> "i" plus a
  // combining dot) and KELVIN SIGN U+212A (-> "k"). Everything else non-ASCII is a separator.
  lowered.clear();
  tokens.clear();
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t c = next_code_point(text, i);
    char out = ' ';
    if (c >= 'A' && c <= 'Z')
      out = char(c - 'A' + 'a');
    else if (c < 0x80 && is_alnum_lower(char(c)))
      out = char(c);
    else if (c == 0x212A)
      out = 'k';
    else if (c == 0x130)
      lowered.push_back('i');  // the combining dot that follows is a separator
    if (out != ' ' || (!lowered.empty() && lowered.back() != ' ')) lowered.push_back(out);
  }
  if (!lowered.empty() && lowered.back() == ' ') lowered.pop_back();
  std::size_t start = 0;
  const std::string_view l = lowered;
  while (start < l.size()) {
    std::size_t end = l.find(' ', start);
    if (end == std::string_view::npos) end = l.size();
    tokens.push_back(l.substr(start, end - start));
    start = end + 1;
  }
}

// Classic dynamic programme with one row: L[i][j] = L[i-1][j-1] + 1 if a_i = b_j, else
// max(L[i-1][j], L[i][j-1]).
std::size_t lcs_length(const std::vector<std::string_view>& a,
                       const std::vector<std::string_view>& b, std::vector<std::size_t>& row) {
  row.assign(b.size() + 1, 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = 0;  // L[i-1][j-1]
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = a[i - 1] == b[j - 1] ? diag + 1 : std::max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[b.size()];
}

RougeScores segment_rouge(std::string_view hyp, std::string_view ref) {
  Workspace w;
  return score_pair(w, hyp, ref);
}

RougeScores corpus_rouge(const std::vector<std::string>& hyps,
                         const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size()) throw std::invalid_argument("corpus_rouge: size mismatch");
  const std::int64_t count = std::int64_t(hyps.size());
  std::vector<RougeScores> per(hyps.size());
#pragma omp parallel
  {
    Workspace w;
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) per[i] = score_pair(w, hyps[i], refs[i]);
  }
  // Summed serially in segment order so the floating-point result is independent of threads.
  RougeScores s;
  s.segments = per.size();
  auto add = [](RougeValue& acc, const RougeValue& v) {
    acc.precision += v.precision;
    acc.recall += v.recall;
    acc.f1 += v.f1;
  };
  for (const auto& p : per) {
    add(s.rouge1, p.rouge1);
    add(s.rouge2, p.rouge2);
    add(s.rougeL, p.rougeL);
  }
  if (count > 0)
    for (RougeValue* v : {&s.rouge1, &s.rouge2, &s.rougeL}) {
      v->precision /= double(count);
      v->recall /= double(count);
      v->f1 /= double(count);
    }
  return s;
}

std::string format_rouge(const RougeScores& s) {
  std::string out;
  char buf[128];
  const std::pair<const char*, const RougeValue*> rows[] = {
      {"ROUGE-1", &s.rouge1}, {"ROUGE-2", &s.rouge2}, {"ROUGE-L", &s.rougeL}};
  for (const auto& [name, v] : rows) {
    std::snprintf(buf, sizeof buf, "%s = %.2f (P = %.2f R = %.2f)\n", name, 100 * v->f1,
                  100 * v->precision, 100 * v->recall);
    out += buf;
  }
  return out;
}

}  // namespace normlab::eval
