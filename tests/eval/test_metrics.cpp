// BLEU, chrF and ROUGE (src/eval/) on small cases whose values are worked out by hand in the
// comments. The chrF values 61.5763... and 84.6421... are also the ones sacreBLEU 2.x prints for
// the same pairs (the Hugging Face chrF metric card quotes them).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "core/utf8.hpp"
#include "eval/bleu.hpp"
#include "eval/chrf.hpp"
#include "eval/rouge.hpp"
#include "eval/text.hpp"
#include "eval/tokenize_13a.hpp"

using namespace normlab::eval;
using normlab::find_invalid_utf8;
namespace fs = std::filesystem;

namespace {

BleuScore bleu1(const std::string& h, const std::string& r) {
  return corpus_bleu({h}, {r});
}
double chrf1(const std::string& h, const std::string& r) {
  return corpus_chrf({h}, {r}).score;
}

}  // namespace

// ---- 13a tokenizer

TEST(Tokenize13a, PunctuationAndSymbolsSplit) {
  EXPECT_EQ(tokenize_13a("Hello, world!"), "Hello , world !");
  EXPECT_EQ(tokenize_13a("(a) [b] {c} x/y a+b @me #1 50%"),
            "( a ) [ b ] { c } x / y a + b @ me # 1 50 %");
  // Apostrophes and dashes between letters are not split.
  EXPECT_EQ(tokenize_13a("can't well-known"), "can't well-known");
  // Whitespace is collapsed, including Python's non-ASCII whitespace (NBSP U+00A0).
  EXPECT_EQ(tokenize_13a("  a \t b\xC2\xA0"
                         "c  "),
            "a b c");
}

TEST(Tokenize13a, NumbersKeepTheirPeriodsAndCommas) {
  // '$' is a symbol; "3.50" and "1,000" have a digit on both sides of the separator and stay
  // whole; the comma after "3.50" is followed by a space, the period after "yen" preceded by 'n'.
  EXPECT_EQ(tokenize_13a("It costs $3.50, or 1,000 yen."), "It costs $ 3.50 , or 1,000 yen .");
  EXPECT_EQ(tokenize_13a("pi=3.14."), "pi = 3.14 .");
  // Each period of "U.S.A." is preceded by a letter.
  EXPECT_EQ(tokenize_13a("U.S.A."), "U . S . A .");
  // A dash preceded by a digit is split, so are the periods in ".5" (preceded by a space).
  EXPECT_EQ(tokenize_13a("1990-2000"), "1990 - 2000");
  EXPECT_EQ(tokenize_13a("x .5"), "x . 5");
  // Non-ASCII letters are non-digits, byte-wise as code-point-wise.
  EXPECT_EQ(tokenize_13a("na\xC3\xAFve."), "na\xC3\xAFve .");
}

TEST(Tokenize13a, EscapesAndSkippedTags) {
  EXPECT_EQ(tokenize_13a("a &amp; b &lt;c&gt; &quot;d&quot;"), "a & b < c > \" d \"");
  // One pass per entity in the order quot, amp, lt, gt: "&amp;lt;" -> "&lt;" -> "<".
  EXPECT_EQ(tokenize_13a("&amp;lt;"), "<");
  // ... but "&amp;quot;" -> "&quot;" stays, since &quot; was replaced before &amp;.
  EXPECT_EQ(tokenize_13a("&amp;quot;"), "& quot ;");
  EXPECT_EQ(tokenize_13a("<skipped>word"), "word");
  EXPECT_EQ(tokenize_13a(""), "");
}

// ---- BLEU

TEST(Bleu, PerfectMatchIs100) {
  const BleuScore s = bleu1("The cat sat on the mat.", "The cat sat on the mat.");
  EXPECT_DOUBLE_EQ(s.score, 100.0);
  EXPECT_DOUBLE_EQ(s.bp, 1.0);
  EXPECT_EQ(s.hyp_len, 7);  // 13a splits off the final period
  EXPECT_EQ(format_bleu(s),
            "BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 "
            "ref_len = 7)");
}

TEST(Bleu, HandCountedPrecisionsWithExpSmoothing) {
  // hyp: the cat sat on the mat / ref: the cat is on the mat (6 tokens each, BP = 1)
  //   1-grams: the x2, cat, on, mat match -> 5/6
  //   2-grams: "the cat", "on the", "the mat" -> 3/5
  //   3-grams: "on the mat" -> 1/4
  //   4-grams: none of 3 -> 0; sacreBLEU's default "exp" smoothing uses 100 / (2 * 3).
  const BleuScore s = bleu1("the cat sat on the mat", "the cat is on the mat");
  EXPECT_EQ(s.matches, (std::array<std::int64_t, 4>{5, 3, 1, 0}));
  EXPECT_EQ(s.totals, (std::array<std::int64_t, 4>{6, 5, 4, 3}));
  EXPECT_NEAR(s.precisions[3], 100.0 / 6, 1e-12);
  const double expect = std::pow(500.0 / 6 * 60.0 * 25.0 * (100.0 / 6), 0.25);
  EXPECT_NEAR(s.score, expect, 1e-9);
  EXPECT_NEAR(s.score, 37.9918, 1e-4);
  EXPECT_EQ(format_bleu(s),
            "BLEU = 37.99 83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
}

TEST(Bleu, ClippingAndRepeatedSmoothing) {
  // hyp "the the the the" vs ref "the cat": the unigram "the" counts min(4, 1) = 1 of 4; 2-, 3-,
  // 4-grams have 0 matches of 3, 2, 1, smoothed to 100/(2*3), 100/(4*2), 100/(8*1). c = 4 > r = 2.
  const BleuScore s = bleu1("the the the the", "the cat");
  EXPECT_DOUBLE_EQ(s.precisions[0], 25.0);
  EXPECT_NEAR(s.score, std::pow(25.0 * (100.0 / 6) * 12.5 * 12.5, 0.25), 1e-9);
  EXPECT_DOUBLE_EQ(s.bp, 1.0);
  EXPECT_DOUBLE_EQ(s.ratio, 2.0);
}

TEST(Bleu, BrevityPenalty) {
  // 4 tokens against 6, every n-gram matches: BLEU = 100 * exp(1 - 6/4) = 100 * exp(-0.5).
  const BleuScore s = bleu1("the cat sat on", "the cat sat on the mat");
  EXPECT_NEAR(s.bp, std::exp(-0.5), 1e-12);
  EXPECT_NEAR(s.score, 100 * std::exp(-0.5), 1e-9);
  EXPECT_NEAR(s.ratio, 4.0 / 6.0, 1e-12);
}

TEST(Bleu, NoFourGramsGivesZero) {
  // 3 tokens: no 4-gram at all (t_4 = 0), so p_4 stays 0 and BLEU is 0 despite perfect 1..3-grams.
  EXPECT_DOUBLE_EQ(bleu1("a b c", "a b c").score, 0.0);
  EXPECT_DOUBLE_EQ(bleu1("", "a b c").score, 0.0);
}

TEST(Bleu, CorpusStatisticsAreSummed) {
  // Segment 1 is perfect (4+3+2+1 n-grams); segment 2 "on our way to ankh morpork" vs "goodbye
  // ankh morpork" matches 2 unigrams and 1 bigram of 6, 5, 4, 3. Totals: 6/10, 4/8, 2/6, 1/4;
  // c = 10 > r = 7. BLEU = (60 * 50 * 33.33 * 25)^(1/4) = 39.7635... (sacreBLEU agrees).
  const BleuScore s = corpus_bleu({"hello there general kenobi", "on our way to ankh morpork"},
                                  {"hello there general kenobi", "goodbye ankh morpork"});
  EXPECT_NEAR(s.score, std::pow(60.0 * 50.0 * (100.0 / 3) * 25.0, 0.25), 1e-9);
  EXPECT_NEAR(s.score, 39.76353643835252, 1e-9);
  EXPECT_EQ(s.ref_len, 7);
}

// ---- chrF

TEST(Chrf, HandComputedSmallPair) {
  // hyp "ab", ref "abc". n=1: hyp 2, ref 3, match 2; n=2: hyp 1 ("ab"), ref 2, match 1; n>=3: the
  // hypothesis has no n-grams, so only orders 1 and 2 count. P = (1 + 1)/2 = 1,
  // R = (2/3 + 1/2)/2 = 7/12; chrF2 = 5 P R / (4 P + R) = (35/12) / (55/12) = 7/11.
  const ChrfScore s = corpus_chrf({"ab"}, {"abc"});
  EXPECT_NEAR(s.avg_precision, 1.0, 1e-12);
  EXPECT_NEAR(s.avg_recall, 7.0 / 12, 1e-12);
  EXPECT_NEAR(s.score, 700.0 / 11, 1e-9);
  EXPECT_EQ(format_chrf(s), "chrF2 = 63.64");
}

TEST(Chrf, WhitespaceIgnoredAndCodePoints) {
  EXPECT_DOUBLE_EQ(chrf1("a b", "ab"), 100.0);
  // "éa" vs "ea" as code points: n=1 P = R = 1/2, n=2 P = R = 0 -> averages 1/4 -> F = 25.
  // (Counting bytes would give 3 unigrams for "éa" and a different score.)
  EXPECT_NEAR(chrf1("\xC3\xA9"
                    "a",
                    "ea"),
              25.0, 1e-9);
  EXPECT_DOUBLE_EQ(chrf1("", "abc"), 0.0);
}

TEST(Chrf, MatchesSacrebleuOnMetricCardExamples) {
  EXPECT_NEAR(chrf1("The relationship between Obama and Netanyahu is not exactly friendly.",
                    "The ties between Obama and Netanyahu are not particularly friendly."),
              61.576379378113785, 1e-9);
  EXPECT_NEAR(corpus_chrf({"The relationship between cats and dogs is not exactly friendly.",
                           "a good bookshop is just a genteel black hole that knows how to read."},
                          {"The relationship between dogs and cats is not exactly friendly.",
                           "A good bookshop is just a genteel Black Hole that knows how to read."})
                  .score,
              84.64214891738334, 1e-9);
}

// ---- ROUGE

TEST(Rouge, Tokenizer) {
  std::string low;
  std::vector<std::string_view> t;
  // Lowercased; "'" and the em dash (non-ASCII) separate tokens.
  rouge_tokenize("Don't STOP\xE2\x80\x94now!", low, t);
  EXPECT_EQ(t, (std::vector<std::string_view>{"don", "t", "stop", "now"}));
  rouge_tokenize(" ...", low, t);
  EXPECT_TRUE(t.empty());
}

TEST(Rouge, LcsExample) {
  // Lin (2004): ref "police killed the gunman". hyp "police kill the gunman": LCS = "police the
  // gunman" = 3, P = R = F = 3/4; unigram overlap 3 of 4; bigram overlap "the gunman" 1 of 3.
  const RougeScores a = segment_rouge("police kill the gunman", "police killed the gunman");
  EXPECT_DOUBLE_EQ(a.rougeL.f1, 0.75);
  EXPECT_DOUBLE_EQ(a.rouge1.f1, 0.75);
  EXPECT_NEAR(a.rouge2.f1, 1.0 / 3, 1e-12);
  // hyp "the gunman kill police": LCS = "the gunman" = 2 -> 1/2, though ROUGE-1 is still 3/4.
  const RougeScores b = segment_rouge("the gunman kill police", "police killed the gunman");
  EXPECT_DOUBLE_EQ(b.rougeL.f1, 0.5);
  EXPECT_DOUBLE_EQ(b.rouge1.f1, 0.75);
}

TEST(Rouge, PrecisionRecallDifferAndSegmentsAreAveraged) {
  // hyp "a b" vs ref "a b c d": unigram P = 2/2, R = 2/4, F = 2/3.
  const RougeScores s = segment_rouge("a b", "a b c d");
  EXPECT_DOUBLE_EQ(s.rouge1.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.rouge1.recall, 0.5);
  EXPECT_NEAR(s.rouge1.f1, 2.0 / 3, 1e-12);
  // Mean over segments: a perfect pair (1) and a disjoint one (0), and an empty hypothesis (0).
  const RougeScores c = corpus_rouge({"x y", "p q", ""}, {"x y", "r s", "a"});
  EXPECT_NEAR(c.rougeL.f1, 1.0 / 3, 1e-12);
  EXPECT_NEAR(c.rouge1.recall, 1.0 / 3, 1e-12);
  EXPECT_EQ(c.segments, 3u);
}

// ---- text helpers

TEST(EvalText, Utf8Validation) {
  EXPECT_EQ(find_invalid_utf8("ok \xC3\xA9"), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(find_invalid_utf8("a\xC0\xAF"), 1u);     // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);  // surrogate
  EXPECT_EQ(find_invalid_utf8("xy\xE2\x82"), 2u);    // truncated
}

TEST(EvalText, ReadSegments) {
  const fs::path p = fs::temp_directory_path() / "normlab-eval-test-segments.txt";
  std::ofstream(p, std::ios::binary) << "one\r\ntwo\n\nfour\n";
  EXPECT_EQ(read_segments(p.string()), (std::vector<std::string>{"one", "two", "", "four"}));
  std::ofstream(p, std::ios::binary) << "ok\n\xFF\n";
  try {
    read_segments(p.string());
    ADD_FAILURE() << "expected UserError";
  } catch (const normlab::UserError& e) {
    EXPECT_EQ(std::string(e.what()), p.string() + ": invalid UTF-8 at byte 3");
  }
  fs::remove(p);
  EXPECT_THROW(read_segments(p.string()), normlab::UserError);
}
