// Several references per segment, as sacreBLEU 2.x: its README's example reproduced digit for
// digit, and each rule (n-gram counts clipped by the largest count in any reference, the closest
// reference length with ties to the shorter, the best chrF reference, empty references left out).
#include <gtest/gtest.h>

#include "eval/bleu.hpp"
#include "eval/chrf.hpp"
#include "eval/references.hpp"

using namespace normlab::eval;

namespace {
// sacreBLEU's README (2.x, "Using the Python API"): two reference streams, three segments.
const std::vector<std::string> kSys = {"The dog bit the man.", "It wasn't surprising.",
                                       "The man had just bitten him."};
const std::vector<std::vector<std::string>> kRefs = {
    {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
    {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}};
}  // namespace

TEST(MultiReference, SacrebleuReadmeBleu) {
  const BleuScore s = corpus_bleu_multi(kSys, kRefs);
  EXPECT_EQ(
      format_bleu(s),
      "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)");
  EXPECT_NEAR(s.score, 48.530827, 1e-8);  // sacreBLEU's test_bleu.py, EPSILON = 1e-8
  EXPECT_EQ(bleu_signature(count_references(kRefs)),
            "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.3.1");
  // Empty hypotheses are scored, not removed (test_bleu.py: 0.0).
  EXPECT_EQ(corpus_bleu_multi({"", "", ""}, kRefs).score, 0.0);
}

TEST(MultiReference, SacrebleuReadmeChrf) {
  EXPECT_EQ(format_chrf(corpus_chrf_multi(kSys, kRefs)), "chrF2 = 59.73");
  EXPECT_EQ(chrf_signature(count_references(kRefs)),
            "nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.3.1");
}

TEST(MultiReference, OneStreamIsTheSingleReferenceScore) {
  for (const auto& refs : kRefs) {
    EXPECT_EQ(corpus_bleu_multi(kSys, {refs}).score, corpus_bleu(kSys, refs).score);
    EXPECT_EQ(corpus_chrf_multi(kSys, {refs}).score, corpus_chrf(kSys, refs).score);
  }
}

TEST(MultiReference, BleuClipsByTheLargestCountInAnyReference) {
  // "a a a a" against "a b" and "a a c": "a" is clipped at 2 (the second reference), not 1 or 3.
  const BleuScore s = corpus_bleu_multi({"a a a a"}, {{"a b"}, {"a a c"}});
  EXPECT_EQ(s.matches[0], 2);
  EXPECT_EQ(s.matches[1], 1);  // "a a" appears once in the second reference
}

TEST(MultiReference, BleuReferenceLengthIsTheClosestShorterOnTies) {
  // 4 hypothesis tokens; references of 2 and 6 tokens are equally far: the shorter, 2, counts.
  EXPECT_EQ(corpus_bleu_multi({"w x y z"}, {{"p q"}, {"p q r s t u"}}).ref_len, 2);
  // 3 and 6 tokens: 3 is closer.
  EXPECT_EQ(corpus_bleu_multi({"w x y z"}, {{"p q r s t u"}, {"p q r"}}).ref_len, 3);
}

TEST(MultiReference, ChrfTakesTheBestReferencePerSegment) {
  // Segment 1 matches the first stream exactly, segment 2 the second: the corpus statistics are
  // those of a perfect match.
  const ChrfScore s =
      corpus_chrf_multi({"abcdef", "ghijkl"}, {{"abcdef", "zzz"}, {"yyy", "ghijkl"}});
  EXPECT_DOUBLE_EQ(s.score, 100.0);
  EXPECT_EQ(s.ref[0], 12);
}

TEST(MultiReference, EmptyReferencesAreLeftOut) {
  // The second segment has only its first reference: nrefs is "var", and the empty line of the
  // second stream neither shortens the reference length nor adds n-grams.
  const std::vector<std::vector<std::string>> refs = {{"a b c d", "e f g h"}, {"a b c d", ""}};
  EXPECT_EQ(count_references(refs), "var");
  const BleuScore s = corpus_bleu_multi({"a b c d", "e f g h"}, refs);
  EXPECT_EQ(s.ref_len, 8);
  EXPECT_DOUBLE_EQ(s.score, 100.0);
  EXPECT_DOUBLE_EQ(corpus_chrf_multi({"a b c d", "e f g h"}, refs).score, 100.0);
}

TEST(MultiReference, NoMatchAtAllIsZeroAsSacrebleu2) {
  // sacreBLEU 2.x returns 0 with every precision 0 when nothing matches (no smoothing of all four).
  const BleuScore s = corpus_bleu({"x y z w v"}, {"a b c d e"});
  EXPECT_EQ(s.score, 0.0);
  EXPECT_EQ(format_bleu(s),
            "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 5 ref_len = 5)");
}
