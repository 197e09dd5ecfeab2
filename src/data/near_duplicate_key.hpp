// The text two segments share when they differ only in case, punctuation, symbols or spacing:
// the key on which prepare-parallel groups pairs so that near-duplicates never straddle the
// train/valid/test split (docs/parallel-corpus.md, "Split").
#pragma once
#include <string>
#include <string_view>

namespace normlab {

// Letters and digits of valid UTF-8 `text`, lowercased, everything else removed:
// - kept: ASCII letters and digits, and every code point from U+00C0 up except the punctuation
//   and symbol ranges below (so German, Greek, Cyrillic, CJK letters stay);
// - removed: ASCII punctuation, symbols, spaces and controls (so also the accelerator markers
//   '_' and '&' and the syntax of format directives, '%s' -> 's'), U+0080-U+00BF (C1 controls,
//   no-break space, Latin-1 punctuation and symbols), U+00D7, U+00F7, U+2000-U+2BFF (general
//   punctuation, super/subscripts, currency, letterlike, arrows, maths, box drawing, shapes,
//   dingbats), U+3000-U+303F, U+FE10-U+FE6F, U+FF01-U+FF20 except the fullwidth digits,
//   U+FF3B-U+FF40, U+FF5B-U+FF65, U+FFF0 and up within the BMP, U+1F000-U+1FAFF (emoji);
// - lowercased (simple one-to-one case mapping, no ß -> ss): A-Z, U+00C0-U+00DE, the case pairs
//   of Latin Extended-A (U+0100-U+017F, with U+0178 -> U+00FF), Greek U+0391-U+03A9, Cyrillic
//   U+0400-U+042F; fullwidth letters and digits become their ASCII forms (as NFKC would).
// "Open _File..." and "open file" both give "openfile". The result may be empty ("...").
std::string near_duplicate_key(std::string_view text);

}  // namespace normlab
