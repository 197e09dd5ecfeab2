// ROUGE-1, ROUGE-2 and ROUGE-L (Lin 2004) as Google's rouge-score package computes them without
// stemming, averaged over segments.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace normlab::eval {

struct RougeValue {
  double precision = 0, recall = 0, f1 = 0;  // 0..1
};

struct RougeScores {
  RougeValue rouge1, rouge2, rougeL;  // means over segments
  std::size_t segments = 0;
};

// rouge-score's default tokenizer: lowercase, every run of characters outside [a-z0-9] is a
// separator (so "don't" -> "don", "t" and non-ASCII letters vanish). Appends views into `text`'s
// lowered copy `lowered` (which this function fills), joined by single spaces.
void rouge_tokenize(std::string_view text, std::string& lowered,
                    std::vector<std::string_view>& tokens);

// Longest common subsequence length of two token sequences.
std::size_t lcs_length(const std::vector<std::string_view>& a,
                       const std::vector<std::string_view>& b, std::vector<std::size_t>& row);

// Scores of one segment pair.
RougeScores segment_rouge(std::string_view hyp, std::string_view ref);

// hyps.size() must equal refs.size(). Every P, R and F1 is the arithmetic mean of the
// per-segment values (0 for an empty corpus).
RougeScores corpus_rouge(const std::vector<std::string>& hyps,
                         const std::vector<std::string>& refs);

// Three lines, "ROUGE-1 = 45.00 (P = 50.00 R = 40.00)" ..., values in percent, F1 first.
std::string format_rouge(const RougeScores& s);

}  // namespace normlab::eval
