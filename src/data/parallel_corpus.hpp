// `normlab prepare-parallel`: a sentence-aligned corpus (two line-aligned files, or by default the
// English->German GNU gettext catalogs Debian installs) -> cleaned, de-duplicated pairs split by a
// hash of the source into train/valid/test, one SentencePiece model shared by both languages, and
// token files whose k-th EOS-terminated segment in X.src pairs with the k-th in X.tgt
// (docs/parallel-corpus.md).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace normlab {

struct SegmentPair {
  std::string src, tgt;
  bool operator==(const SegmentPair&) const = default;
};

struct CleanOptions {
  size_t max_chars = 200;          // code points, per side
  double max_ratio = 3.0;          // longer side / shorter side, in code points
  bool strip_accelerators = true;  // on for gettext catalogs, off for plain text files
  std::string placeholder;         // non-empty: replace every format directive with this text
};

// Why pairs were dropped, in the order the rules are applied (docs/parallel-corpus.md).
struct CleanStats {
  size_t input = 0, empty = 0, untranslated = 0, too_long = 0, ratio = 0, directives = 0,
         markup = 0, duplicate = 0, conflicting = 0, kept = 0;
};

// Collapses every run of whitespace (ASCII space, tab, CR, LF, FF, VT, and U+00A0) to one space
// and trims both ends.
std::string normalize_whitespace(std::string_view text);

// Removes one keyboard accelerator marker: GTK '_' or Qt/KDE '&' in front of a letter or digit
// ("_File" -> "File", "Sa_ve" -> "Save", "&Open" -> "Open"). Only done when the text holds
// exactly one candidate of that kind, so "a_b_c", "&&" and entities such as "&amp;" stay.
std::string strip_accelerator(std::string_view text);

// The format directives of a message as a sorted multiset: printf conversions ("%s", "%5.2f",
// "%lu", positional "%2$s" counted as "%s"; the space flag is not read, so "50 % der" is text),
// Python named ones ("%(name)s") and brace fields
// ("{}", "{0}", "{name:>4}"). "%%" and "{{"/"}}" are literals, not directives.
std::vector<std::string> format_directives(std::string_view text);

// `text` with each format directive replaced by `placeholder`.
std::string replace_directives(std::string_view text, std::string_view placeholder);

// Sorted multiset of HTML/Pango markup tags ("b", "/b", "span", "br/"...). Only a fixed set of
// tag names counts as markup; "<FILE>" or "<Datei>" in usage strings is text.
std::vector<std::string> markup_tags(std::string_view text);

// Applies the cleaning rules to each pair in order, then removes exact duplicates and, among the
// pairs sharing a source, keeps the most frequent target (first seen on a tie). Output keeps
// the input order of first occurrences.
std::vector<SegmentPair> clean_pairs(const std::vector<SegmentPair>& pairs,
                                     const CleanOptions& options, CleanStats& stats);

enum class SplitPart { kTrain = 0, kValid = 1, kTest = 2 };

// Part of each pair from u = hash(seed, source text) in [0, 1): valid if u < valid_fraction, test
// if u < valid_fraction + test_fraction, else train. Depends only on the seed and the source, so
// a pair keeps its part when the corpus grows. With n >= 3 pairs, each part gets at least one:
// an empty valid (test) part takes the train pair with the smallest (largest) u.
std::vector<SplitPart> assign_splits(const std::vector<SegmentPair>& pairs, uint64_t seed,
                                     double valid_fraction, double test_fraction);

// DIR/*.mo, sorted; throws UserError naming the directory and the Debian packages that ship
// German catalogs if there are none.
std::vector<std::string> default_catalog_files(
    const std::string& dir = "/usr/share/locale/de/LC_MESSAGES");

// The line-aligned pairs of two text files (a final newline does not start a line, a trailing
// '\r' is dropped). Throws UserError for a missing file, invalid UTF-8 (with the byte offset) or
// differing line counts (naming both files and both counts).
std::vector<SegmentPair> read_parallel_files(const std::string& src_path,
                                             const std::string& tgt_path);

struct PrepareParallelOptions {
  std::string src_path, tgt_path;  // both empty: the default gettext corpus
  std::string out_dir;
  std::string src_lang = "en", tgt_lang = "de";  // suffixes of the plain-text outputs
  int vocab_size = 8000;
  std::string model_type = "bpe";
  double valid_fraction = 0.02, test_fraction = 0.02;
  uint64_t seed = 1;
  CleanOptions clean;  // strip_accelerators is set from the input kind
};

// Writes OUT/tokenizer.model, OUT/{train,valid,test}.{src,tgt}.bin, OUT/{train,valid,test}.{SRC,
// TGT} text and OUT/meta.json (last); one summary line per step on stderr.
void prepare_parallel(const PrepareParallelOptions& options);

}  // namespace normlab
