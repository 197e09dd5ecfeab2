#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "data/gettext_text_rules.hpp"
#include "data/near_duplicate_key.hpp"
#include "data/parallel_cleaning.hpp"
#include "data/parallel_sources.hpp"
#include "data/parallel_split.hpp"
#include "data/prepare_parallel.hpp"
#include "data/token_file.hpp"
#include "data/tokenizer.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

TEST(ParallelClean, NormalizesWhitespace) {
  EXPECT_EQ(normalize_whitespace("  a \t b\n\nc  "), "a b c");
  EXPECT_EQ(normalize_whitespace("x\xC2\xA0y"), "x y");
  EXPECT_EQ(normalize_whitespace(" \n "), "");
}

TEST(ParallelClean, StripsOneAccelerator) {
  EXPECT_EQ(strip_accelerator("_File"), "File");
  EXPECT_EQ(strip_accelerator("Sa_ve As"), "Save As");
  EXPECT_EQ(strip_accelerator("\xC3\x96_ffnen"),
            "\xC3\x96"
            "ffnen");
  EXPECT_EQ(strip_accelerator("_\xC3\x96"
                              "ffnen"),
            "\xC3\x96"
            "ffnen");
  EXPECT_EQ(strip_accelerator("&Open"), "Open");
  EXPECT_EQ(strip_accelerator("Tom &amp; &Jerry"), "Tom &amp; Jerry");
  EXPECT_EQ(strip_accelerator("a_b_c"), "a_b_c");  // two candidates: not an accelerator
  EXPECT_EQ(strip_accelerator("R&&D"), "R&&D");
  EXPECT_EQ(strip_accelerator("a & b"), "a & b");
  EXPECT_EQ(strip_accelerator("__init__"), "__init__");
}

TEST(ParallelClean, FindsFormatDirectives) {
  EXPECT_EQ(format_directives("%s: %d of %lu, 100%% done"), (Strings{"%d", "%lu", "%s"}));
  EXPECT_EQ(format_directives("%2$s then %1$s"), (Strings{"%s", "%s"}));
  EXPECT_EQ(format_directives("%-5.2f and %'d"), (Strings{"%'d", "%-5.2f"}));
  EXPECT_EQ(format_directives("%(name)s is %(n)d"), (Strings{"%(n)d", "%(name)s"}));
  EXPECT_EQ(format_directives("{} {0} {name:>4} {{literal}}"), (Strings{"{0}", "{name:>4}", "{}"}));
  EXPECT_EQ(format_directives("50 % der Dateien, 100%"), Strings{});
  EXPECT_EQ(replace_directives("copy %s to {0}", "<v>"), "copy <v> to <v>");
}

TEST(ParallelClean, FindsMarkupTags) {
  EXPECT_EQ(markup_tags("<b>Bold</b> <span weight=\"x\">y</span><br/>"),
            (Strings{"/b", "/span", "b", "br/", "span"}));
  EXPECT_EQ(markup_tags("Usage: cp <FILE> <bold>"), Strings{});
}

// One pair per rule, each followed by the reason counter it must increment.
TEST(ParallelClean, EachRuleDropsItsCase) {
  const std::vector<SegmentPair> in = {
      {"Open file", "Datei öffnen"},    // kept
      {"", "leer"},                     // empty
      {"  ", "x"},                      // empty after normalisation
      {"Format", "Format"},             // untranslated
      {std::string(201, 'a'), "kurz"},  // too long
      {"ab", "abcdefg"},                // ratio 3.5 > 3
      {"%s files", "Dateien"},          // directive missing
      {"%s of %d", "%d von %s"},        // same multiset in another order: kept
      {"<b>Bold</b>", "Fett"},          // markup mismatch
      {"Open file", "Datei öffnen"},    // exact duplicate
      {"Close", "Schließen"},           // most frequent target wins...
      {"Close", "Zumachen"},            // ...over this one
      {"Close", "Schließen"},           // duplicate
      {"_Quit", "_Beenden"},            // accelerators stripped
  };
  CleanStats stats;
  const auto out = clean_pairs(in, CleanOptions{}, stats);
  const std::vector<SegmentPair> want = {{"Open file", "Datei öffnen"},
                                         {"%s of %d", "%d von %s"},
                                         {"Close", "Schließen"},
                                         {"Quit", "Beenden"}};
  EXPECT_EQ(out, want);
  EXPECT_EQ(stats.input, in.size());
  EXPECT_EQ(stats.empty, 2u);
  EXPECT_EQ(stats.untranslated, 1u);
  EXPECT_EQ(stats.too_long, 1u);
  EXPECT_EQ(stats.ratio, 1u);
  EXPECT_EQ(stats.directives, 1u);
  EXPECT_EQ(stats.markup, 1u);
  EXPECT_EQ(stats.duplicate, 2u);
  EXPECT_EQ(stats.conflicting, 1u);
  EXPECT_EQ(stats.kept, 4u);
}

TEST(ParallelClean, PlaceholderAndNoAcceleratorStripping) {
  CleanOptions o;
  o.placeholder = "<v>";
  o.strip_accelerators = false;
  CleanStats stats;
  const auto out = clean_pairs({{"copy %s to %s", "kopiere %s nach %s"}, {"a_b", "c_d"}}, o, stats);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].src, "copy <v> to <v>");
  EXPECT_EQ(out[0].tgt, "kopiere <v> nach <v>");
  EXPECT_EQ(out[1].src, "a_b");
}

std::vector<SegmentPair> numbered_pairs(int n) {
  std::vector<SegmentPair> p;
  for (int i = 0; i < n; ++i)
    p.push_back({"sentence " + std::to_string(i), "Satz " + std::to_string(i)});
  return p;
}

TEST(ParallelSplit, DeterministicAndContentBased) {
  const auto pairs = numbered_pairs(5000);
  const auto a = assign_splits(pairs, 7, 0.02, 0.02);
  EXPECT_EQ(a, assign_splits(pairs, 7, 0.02, 0.02));
  EXPECT_NE(a, assign_splits(pairs, 8, 0.02, 0.02));
  size_t valid = 0, test = 0;
  for (auto p : a) {
    valid += p == SplitPart::kValid;
    test += p == SplitPart::kTest;
  }
  EXPECT_NEAR(static_cast<double>(valid), 100.0, 40.0);
  EXPECT_NEAR(static_cast<double>(test), 100.0, 40.0);
  // A pair's part depends on its source only, not on its position or the other pairs.
  std::vector<SegmentPair> reversed(pairs.rbegin(), pairs.rend());
  const auto b = assign_splits(reversed, 7, 0.02, 0.02);
  for (size_t i = 0; i < pairs.size(); ++i) EXPECT_EQ(a[i], b[pairs.size() - 1 - i]);
}

TEST(ParallelSplit, SmallCorpusGetsEveryPart) {
  const auto a = assign_splits(numbered_pairs(3), 1, 0.02, 0.02);
  EXPECT_EQ(std::count(a.begin(), a.end(), SplitPart::kTrain), 1);
  EXPECT_EQ(std::count(a.begin(), a.end(), SplitPart::kValid), 1);
  EXPECT_EQ(std::count(a.begin(), a.end(), SplitPart::kTest), 1);
}

TEST(NearDuplicateKey, IgnoresCasePunctuationAndSpacing) {
  EXPECT_EQ(near_duplicate_key("Open _File..."), "openfile");
  EXPECT_EQ(near_duplicate_key("open file"), "openfile");
  EXPECT_EQ(near_duplicate_key("  OPEN\tFILE\xE2\x80\xA6 "), "openfile");  // U+2026 ellipsis
  EXPECT_EQ(near_duplicate_key("Copy %s to %d!"), "copystod");
  EXPECT_EQ(near_duplicate_key("\xC3\x96\x66\x66nen \xE2\x80\x9E\x44\x61tei\xE2\x80\x9C"),
            "\xC3\xB6\x66\x66nendatei");  // "Öffnen „Datei“" -> "öffnendatei"
  EXPECT_EQ(near_duplicate_key("\xC5\x81\xC3\x93\xC4\x8E\xC4\xB9"),
            "\xC5\x82\xC3\xB3\xC4\x8F\xC4\xBA");                    // ŁÓĎĹ -> łóďĺ
  EXPECT_EQ(near_duplicate_key("\xEF\xBC\xA1\xEF\xBC\x91"), "a1");  // fullwidth A1
  EXPECT_EQ(near_duplicate_key("... -- !"), "");
  EXPECT_NE(near_duplicate_key("file 1"), near_duplicate_key("file 2"));
}

TEST(ParallelSplit, NearDuplicatesNeverStraddleParts) {
  // Each base sentence comes in variants that differ in case, punctuation, spacing or an
  // accelerator, plus a pair with another source but a target written like the base's target;
  // each group must land whole in one part, whatever the seed.
  const std::vector<std::pair<std::string, std::string>> variants = {
      {"", ""}, {"", "."}, {"", "!"}, {"  ", " "}, {"_", ""}, {"", "..."}, {"", "?"}};
  std::vector<SegmentPair> pairs;
  std::vector<size_t> group;
  for (int g = 0; g < 400; ++g) {
    const std::string base = "message number " + std::to_string(g);
    const std::string upper = "Message Number " + std::to_string(g);
    for (size_t v = 0; v < variants.size(); ++v) {
      const auto& [prefix, suffix] = variants[v];
      pairs.push_back({prefix + (v % 2 ? upper : base) + suffix,
                       "Nachricht Nummer " + std::to_string(g) + (v % 3 ? "." : "")});
      group.push_back(g);
    }
    pairs.push_back({"another text " + std::to_string(g), "nachricht nummer " + std::to_string(g)});
    group.push_back(g);
  }
  size_t moved_seen = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SplitStats stats;
    const auto part = assign_splits(pairs, seed, 0.1, 0.1, &stats);
    std::vector<std::set<SplitPart>> parts_of(400);
    for (size_t i = 0; i < pairs.size(); ++i) parts_of[group[i]].insert(part[i]);
    size_t in_test = 0;
    for (size_t g = 0; g < parts_of.size(); ++g) {
      EXPECT_EQ(parts_of[g].size(), 1u) << "group " << g << ", seed " << seed;
      in_test += *parts_of[g].begin() == SplitPart::kTest;
    }
    EXPECT_GT(in_test, 10u);  // the groups do spread over the parts
    EXPECT_EQ(stats.groups, 400u);
    EXPECT_EQ(stats.grouped_pairs, pairs.size());
    EXPECT_EQ(stats.largest_group, variants.size() + 1);
    moved_seen += stats.moved;
  }
  // Split by each raw source alone, the variants would scatter: the grouping moved pairs.
  EXPECT_GT(moved_seen, 0u);
}

class ParallelFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("normlab_par_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string error_of(const std::string& src, const std::string& tgt) {
    try {
      read_parallel_files(src, tgt);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

TEST_F(ParallelFiles, LineCountsAndErrors) {
  const auto a = write("a.en", "one\ntwo\r\nthree\n");
  const auto b = write("b.de", "eins\nzwei\ndrei");
  const auto pairs = read_parallel_files(a, b);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1], (SegmentPair{"two", "zwei"}));
  const auto c = write("c.de", "eins\nzwei\n");
  EXPECT_EQ(error_of(a, c), a + ": has 3 lines but " + c +
                                " has 2; source and target files must be line-aligned (one "
                                "segment per line)");
  EXPECT_EQ(error_of(a, (dir_ / "missing.de").string()),
            (dir_ / "missing.de").string() + ": no such file");
  const auto bad = write("bad.de", "ok\n\xC3(\nx\n");
  EXPECT_EQ(error_of(a, bad), bad + ": invalid UTF-8 at byte 3 (invalid continuation byte)");
}

TEST_F(ParallelFiles, NoCatalogsFound) {
  write("README", "not a catalog");
  try {
    default_catalog_files(dir_.string());
    FAIL() << "no error";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(dir_.string() + ": no German gettext catalogs (*.mo) found", 0), 0u) << m;
    EXPECT_NE(m.find("apt-get install"), std::string::npos) << m;
  }
  write("b.mo", "");
  write("a.mo", "");
  EXPECT_EQ(default_catalog_files(dir_.string()),
            (Strings{(dir_ / "a.mo").string(), (dir_ / "b.mo").string()}));
}

TEST_F(ParallelFiles, EndToEnd) {
  std::string src, tgt;
  const char* nouns[] = {"house", "cat", "dog", "tree", "car", "book", "door", "window"};
  const char* nomen[] = {"Haus", "Katze", "Hund", "Baum", "Auto", "Buch", "Tür", "Fenster"};
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      src += std::string("the ") + nouns[i] + " and the " + nouns[j] + "\n";
      tgt += std::string("das ") + nomen[i] + " und das " + nomen[j] + "\n";
    }
  src += "the house\nFormat\n";
  tgt += "das Haus\nFormat\n";  // the second pair is untranslated and dropped
  PrepareParallelOptions o;
  o.src_path = write("c.en", src);
  o.tgt_path = write("c.de", tgt);
  o.out_dir = (dir_ / "out").string();
  o.vocab_size = 300;
  o.valid_fraction = o.test_fraction = 0.1;
  prepare_parallel(o);

  std::ifstream meta_in(dir_ / "out" / "meta.json");
  const auto meta = nlohmann::json::parse(meta_in);
  EXPECT_EQ(meta["cleaning"]["kept"], 65);
  EXPECT_EQ(meta["cleaning"]["untranslated"], 1);
  size_t total = 0;
  Tokenizer tok((dir_ / "out" / "tokenizer.model").string());
  for (const std::string part : {"train", "valid", "test"}) {
    const size_t n = meta["splits"][part]["pairs"];
    EXPECT_GT(n, 0u) << part;
    total += n;
    const auto s = read_token_file((dir_ / "out" / (part + ".src.bin")).string());
    const auto t = read_token_file((dir_ / "out" / (part + ".tgt.bin")).string());
    EXPECT_EQ(s.tokenizer_identity, tok.identity());
    EXPECT_EQ(t.tokenizer_identity, tok.identity());
    // Segment k of .src pairs with segment k of .tgt and with line k of the text files.
    std::ifstream en(dir_ / "out" / (part + ".en")), de(dir_ / "out" / (part + ".de"));
    std::string line_en, line_de;
    size_t ps = 0, pt = 0, k = 0;
    while (std::getline(en, line_en) && std::getline(de, line_de)) {
      std::vector<int32_t> seg_s, seg_t;
      while (s.tokens.at(ps) != tok.eos_id()) seg_s.push_back(s.tokens[ps++]);
      while (t.tokens.at(pt) != tok.eos_id()) seg_t.push_back(t.tokens[pt++]);
      ++ps, ++pt, ++k;
      EXPECT_EQ(tok.decode(seg_s), line_en);
      EXPECT_EQ(tok.decode(seg_t), line_de);
    }
    EXPECT_EQ(k, n);
    EXPECT_EQ(ps, s.tokens.size());
    EXPECT_EQ(pt, t.tokens.size());
  }
  EXPECT_EQ(total, 65u);
  for (const auto& e : fs::directory_iterator(dir_ / "out"))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace normlab
