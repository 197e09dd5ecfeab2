// sacreBLEU's default BLEU tokenizer "13a", the normalisation of mteval-v13a.pl (NIST).
#pragma once
#include <string>
#include <string_view>

namespace normlab::eval {

// Returns the tokens of `line` (valid UTF-8) joined by single spaces. Steps, in sacreBLEU's order:
//  1. remove "<skipped>"; drop "-\n"; "\n" -> " ";
//  2. unescape &quot; &amp; &lt; &gt; (in that order, one pass each, so "&amp;lt;" -> "<");
//  3. pad with one space and apply, each as one left-to-right pass of non-overlapping matches:
//     a. every ASCII symbol in [{-~ [-` space-& (-+ :-@ /] -> " c " (not - . , ' which follow);
//     b. a period or comma preceded by a non-digit:  "xc" -> "x c ";
//     c. a period or comma followed by a non-digit:  "cx" -> " c x";
//     d. a dash preceded by a digit:                 "9-" -> "9 - ";
//  4. split on whitespace (Python str.split) and join with single spaces.
// So "3.14" and "1,000" stay whole, "end." splits, "(a)" -> "( a )", "can't" stays one token.
std::string tokenize_13a(std::string_view line);

}  // namespace normlab::eval
