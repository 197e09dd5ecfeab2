#include "decode/beam_search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/config.hpp"

namespace normlab {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Applies the length limits to one row of log-probs at target position `pos`: only EOS at
// max_len (keeping its own log-prob, as fairseq does), no EOS before min_len. NaN becomes -inf
// so that it is never chosen and never upsets the sorts.
void constrain(float* lp, int V, int32_t eos, int pos, int max_len, int min_len) {
  for (int t = 0; t < V; ++t)
    if (std::isnan(lp[t])) lp[t] = kNegInf;
  if (pos >= max_len) {
    const float keep = lp[eos];
    std::fill(lp, lp + V, kNegInf);
    lp[eos] = keep;
  } else if (pos < min_len) {
    lp[eos] = kNegInf;
  }
}

void check_tokens(const IncrementalScorer& scorer, int32_t start_token, int32_t eos) {
  const int V = scorer.vocab();
  if (eos < 0 || eos >= V || start_token < 0 || start_token >= V)
    throw std::invalid_argument("search: start token " + std::to_string(start_token) + " or EOS " +
                                std::to_string(eos) + " outside the vocabulary of " +
                                std::to_string(V));
  if (scorer.max_positions() < 1) throw std::invalid_argument("search: scorer has no positions");
}

// A candidate extension: row `row` followed by `token`, with cumulative score `score`.
struct Candidate {
  float score;
  int row;
  int32_t token;
};

// Best raw score first; ties towards the lower row, then the lower token id.
bool better(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.row != b.row) return a.row < b.row;
  return a.token < b.token;
}

// An unfinished hypothesis; row r of the scorer holds active[r].
struct Active {
  int source;
  std::vector<int32_t> tokens;  // generated so far, without the start token
  float score;
};

}  // namespace

void validate(const BeamOptions& o) {
  auto fail = [](const std::string& what) { throw UserError("beam search: " + what); };
  if (o.beam < 1) fail("beam must be at least 1, got " + std::to_string(o.beam));
  if (o.n_best < 1 || o.n_best > o.beam)
    fail("n_best must be between 1 and beam (" + std::to_string(o.beam) + "), got " +
         std::to_string(o.n_best));
  if (o.min_len < 0) fail("min_len must be >= 0, got " + std::to_string(o.min_len));
  if (!(o.max_len_a >= 0) || !std::isfinite(o.max_len_a))
    fail("max_len_a must be a finite number >= 0, got " + std::to_string(o.max_len_a));
  if (!std::isfinite(o.length_penalty))
    fail("length_penalty must be finite, got " + std::to_string(o.length_penalty));
}

int max_target_length(const BeamOptions& o, int source_length, int max_positions) {
  const double limit = static_cast<double>(max_positions - 1);
  const double want = static_cast<double>(o.max_len_a) * source_length + o.max_len_b;
  // int() truncates towards zero like fairseq's; clamp first so the cast cannot overflow.
  return static_cast<int>(std::clamp(want, 0.0, std::max(limit, 0.0)));
}

std::vector<Hypothesis> greedy_search(IncrementalScorer& scorer, std::span<const int> max_len,
                                      int32_t start_token, int32_t eos, int min_len) {
  check_tokens(scorer, start_token, eos);
  const int V = scorer.vocab();
  const int n = static_cast<int>(max_len.size());
  std::vector<int> limit(max_len.begin(), max_len.end());
  for (int& m : limit) m = std::clamp(m, 0, scorer.max_positions() - 1);

  std::vector<Hypothesis> out(static_cast<size_t>(n));
  std::vector<int32_t> row_source(static_cast<size_t>(n)), last(static_cast<size_t>(n));
  std::iota(row_source.begin(), row_source.end(), 0);
  std::fill(last.begin(), last.end(), start_token);
  std::vector<float> log_probs(static_cast<size_t>(n) * V);
  std::vector<int32_t> parent, next_source, next_last;
  if (n > 0) scorer.start(row_source.data(), n);

  for (int pos = 0; !row_source.empty(); ++pos) {
    const int rows = static_cast<int>(row_source.size());
    scorer.step(last.data(), rows, pos, log_probs.data());
    parent.clear();
    next_source.clear();
    next_last.clear();
    for (int r = 0; r < rows; ++r) {
      const int s = row_source[static_cast<size_t>(r)];
      float* lp = log_probs.data() + static_cast<size_t>(r) * V;
      constrain(lp, V, eos, pos, limit[static_cast<size_t>(s)], min_len);
      const int32_t t = static_cast<int32_t>(std::max_element(lp, lp + V) - lp);  // first max
      Hypothesis& h = out[static_cast<size_t>(s)];
      h.score += lp[t];
      if (t == eos) {
        h.normalized_score = h.score;
        continue;
      }
      h.tokens.push_back(t);
      parent.push_back(r);
      next_source.push_back(s);
      next_last.push_back(t);
    }
    if (!parent.empty() && parent.size() < row_source.size())
      scorer.reorder(parent.data(), static_cast<int>(parent.size()));
    row_source.swap(next_source);
    last.swap(next_last);
  }
  return out;
}

std::vector<std::vector<Hypothesis>> beam_search(IncrementalScorer& scorer,
                                                 std::span<const int> source_lengths,
                                                 int32_t start_token, int32_t eos,
                                                 const BeamOptions& options) {
  validate(options);
  check_tokens(scorer, start_token, eos);
  const int V = scorer.vocab();
  const int K = options.beam;
  const int n = static_cast<int>(source_lengths.size());
  std::vector<int> max_len(static_cast<size_t>(n));
  for (int s = 0; s < n; ++s)
    max_len[static_cast<size_t>(s)] =
        max_target_length(options, source_lengths[static_cast<size_t>(s)], scorer.max_positions());
  std::vector<std::vector<Hypothesis>> finished(static_cast<size_t>(n));

  // Every source starts as `beam` identical rows, so the scorer's row count only ever shrinks;
  // at position 0 only the first of them is expanded (the others would repeat its candidates).
  std::vector<Active> active;
  std::vector<int32_t> row_source;
  for (int s = 0; s < n; ++s)
    for (int k = 0; k < K; ++k) {
      active.push_back({s, {}, 0.0f});
      row_source.push_back(s);
    }
  std::vector<int32_t> last(active.size(), start_token);
  std::vector<float> log_probs(active.size() * static_cast<size_t>(V));
  std::vector<int32_t> token_order(static_cast<size_t>(V));
  std::vector<Candidate> candidates;
  std::vector<Active> next;
  std::vector<int32_t> parent;
  if (n > 0) scorer.start(row_source.data(), static_cast<int>(row_source.size()));

  for (int pos = 0; !active.empty(); ++pos) {
    const int rows = static_cast<int>(active.size());
    scorer.step(last.data(), rows, pos, log_probs.data());
    next.clear();
    parent.clear();
    // Rows of one source are contiguous: [begin, end).
    for (int begin = 0, end = 0; begin < rows; begin = end) {
      const int s = active[static_cast<size_t>(begin)].source;
      for (end = begin; end < rows && active[static_cast<size_t>(end)].source == s;) ++end;
      const int expanded_end = pos == 0 ? begin + 1 : end;

      // A row contributes at most `beam` active candidates and one EOS, so its best beam + 1
      // tokens are all the candidates the rules below can keep.
      candidates.clear();
      const int per_row = std::min(K + 1, V);
      for (int r = begin; r < expanded_end; ++r) {
        float* lp = log_probs.data() + static_cast<size_t>(r) * V;
        constrain(lp, V, eos, pos, max_len[static_cast<size_t>(s)], options.min_len);
        const float base = active[static_cast<size_t>(r)].score;
        std::iota(token_order.begin(), token_order.end(), 0);
        std::partial_sort(token_order.begin(), token_order.begin() + per_row, token_order.end(),
                          [&](int32_t a, int32_t b) {
                            return better({base + lp[a], r, a}, {base + lp[b], r, b});
                          });
        for (int j = 0; j < per_row; ++j) {
          const int32_t t = token_order[static_cast<size_t>(j)];
          if (lp[t] == kNegInf) break;
          candidates.push_back({base + lp[t], r, t});
        }
      }
      std::sort(candidates.begin(), candidates.end(), better);

      std::vector<Hypothesis>& done = finished[static_cast<size_t>(s)];
      const size_t next_begin = next.size();
      for (size_t i = 0; i < candidates.size(); ++i) {
        const Candidate& c = candidates[i];
        const Active& from = active[static_cast<size_t>(c.row)];
        if (c.token == eos) {
          // fairseq finalizes only EOS candidates ranked among the best `beam`.
          if (i < static_cast<size_t>(K) && done.size() < static_cast<size_t>(K)) {
            const float length = static_cast<float>(from.tokens.size() + 1);
            done.push_back(
                {from.tokens, c.score, c.score / std::pow(length, options.length_penalty)});
          }
        } else if (next.size() - next_begin < static_cast<size_t>(K)) {
          next.push_back({s, from.tokens, c.score});
          next.back().tokens.push_back(c.token);
          parent.push_back(c.row);
        }
      }
      // Finished: drop this source's survivors so that later steps do not pay for them.
      if (done.size() >= static_cast<size_t>(K)) {
        next.resize(next_begin);
        parent.resize(next_begin);
      }
    }
    active.swap(next);
    last.resize(active.size());
    for (size_t r = 0; r < active.size(); ++r) last[r] = active[r].tokens.back();
    if (!active.empty()) scorer.reorder(parent.data(), static_cast<int>(parent.size()));
  }

  for (std::vector<Hypothesis>& done : finished) {
    std::stable_sort(done.begin(), done.end(), [](const Hypothesis& a, const Hypothesis& b) {
      return a.normalized_score > b.normalized_score;
    });
    if (done.size() > static_cast<size_t>(options.n_best))
      done.resize(static_cast<size_t>(options.n_best));
  }
  return finished;
}

}  // namespace normlab
