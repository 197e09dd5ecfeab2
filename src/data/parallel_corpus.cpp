#include "data/parallel_corpus.hpp"

#include <sentencepiece_processor.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "core/config.hpp"
#include "core/rng.hpp"
#include "data/gettext_mo.hpp"
#include "data/prepare.hpp"
#include "data/sentencepiece_training.hpp"
#include "data/staged_files.hpp"
#include "data/token_file.hpp"
#include "data/tokenizer.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// A letter or digit for accelerator purposes: ASCII alphanumerics or the lead byte of any
// non-ASCII UTF-8 sequence (German accelerators sit on umlauts too: "Ö_ffnen").
bool is_word_start(unsigned char c) {
  return is_ascii_alnum(c) || c >= 0xC0;
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

struct Directive {
  size_t start, length;
  std::string key;  // what the multiset compares
};

// Scans printf ("%[n$][flags][width][.prec][len]conv"), Python "%(name)...conv" and brace
// ("{field[!c][:spec]}") directives, left to right, never overlapping.
std::vector<Directive> scan_directives(std::string_view t) {
  static constexpr std::string_view kConversions = "diouxXeEfFgGaAcsSpnCm";
  std::vector<Directive> out;
  const size_t n = t.size();
  size_t i = 0;
  auto digits = [&](size_t j) {
    while (j < n && t[j] >= '0' && t[j] <= '9') ++j;
    return j;
  };
  while (i < n) {
    const char c = t[i];
    if (c == '%') {
      if (i + 1 < n && t[i + 1] == '%') {
        i += 2;
        continue;
      }
      size_t j = i + 1;
      std::string key = "%";
      if (j < n && t[j] == '(') {  // Python named
        const size_t close = t.find(')', j);
        if (close == std::string_view::npos) {
          ++i;
          continue;
        }
        key.append(t.substr(j, close - j + 1));
        j = close + 1;
      } else if (size_t d = digits(j); d > j && d < n && t[d] == '$') {
        j = d + 1;  // positional argument: translators reorder, so it does not count
      }
      const size_t spec_start = j;
      // The space flag is not accepted: "50 % der" (German spacing) would read as "% d".
      while (j < n && std::string_view("-+#0'I").find(t[j]) != std::string_view::npos) ++j;
      if (j < n && t[j] == '*')
        ++j;
      else
        j = digits(j);
      if (j < n && t[j] == '.') {
        ++j;
        if (j < n && t[j] == '*')
          ++j;
        else
          j = digits(j);
      }
      while (j < n && std::string_view("hlLqjzZt").find(t[j]) != std::string_view::npos) ++j;
      if (j < n && kConversions.find(t[j]) != std::string_view::npos) {
        key.append(t.substr(spec_start, j + 1 - spec_start));
        out.push_back({i, j + 1 - i, std::move(key)});
        i = j + 1;
      } else {
        ++i;  // "100%" or "50 % der": plain text
      }
    } else if (c == '{') {
      if (i + 1 < n && t[i + 1] == '{') {
        i += 2;
        continue;
      }
      size_t j = i + 1;
      while (j < n && (is_ascii_alnum(static_cast<unsigned char>(t[j])) || t[j] == '_' ||
                       t[j] == '.' || t[j] == '[' || t[j] == ']'))
        ++j;
      if (j + 1 < n && t[j] == '!') j += 2;
      if (j < n && t[j] == ':') {
        while (j < n && t[j] != '}' && t[j] != '{') ++j;
      }
      if (j < n && t[j] == '}') {
        out.push_back({i, j + 1 - i, std::string(t.substr(i, j + 1 - i))});
        i = j + 1;
      } else {
        ++i;
      }
    } else if (c == '}' && i + 1 < n && t[i + 1] == '}') {
      i += 2;
    } else {
      ++i;
    }
  }
  return out;
}

// Tag names of HTML and Pango markup; anything else in angle brackets is text ("<FILE>").
bool is_markup_name(std::string_view name) {
  static constexpr std::array<std::string_view, 46> kNames = {
      "a",   "abbr",  "b",     "big",  "blockquote", "body",   "br",     "center", "cite",  "code",
      "div", "em",    "font",  "h1",   "h2",         "h3",     "h4",     "h5",     "h6",    "head",
      "hr",  "html",  "i",     "img",  "kbd",        "li",     "markup", "ol",     "p",     "pre",
      "q",   "s",     "small", "span", "strike",     "strong", "sub",    "sup",    "table", "td",
      "th",  "title", "tr",    "tt",   "u",          "ul"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    pos = nl + 1;
  }
  return lines;
}

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::string normalize_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool nbsp = static_cast<unsigned char>(c) == 0xC2 && i + 1 < text.size() &&
                      static_cast<unsigned char>(text[i + 1]) == 0xA0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || nbsp) {
      pending_space = !out.empty();
      if (nbsp) ++i;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string strip_accelerator(std::string_view text) {
  std::string out(text);
  for (const char marker : {'_', '&'}) {
    size_t count = 0, at = 0;
    for (size_t i = 0; i + 1 < out.size(); ++i) {
      if (out[i] != marker) continue;
      if (i > 0 && out[i - 1] == marker) continue;
      if (!is_word_start(static_cast<unsigned char>(out[i + 1]))) continue;
      if (marker == '&') {  // an entity "&amp;" / "&#38;" is not an accelerator
        size_t j = i + 1;
        while (j < out.size() &&
               (is_ascii_alnum(static_cast<unsigned char>(out[j])) || out[j] == '#'))
          ++j;
        if (j < out.size() && out[j] == ';') continue;
      }
      ++count;
      at = i;
    }
    if (count == 1) out.erase(at, 1);
  }
  return out;
}

std::vector<std::string> format_directives(std::string_view text) {
  std::vector<std::string> keys;
  for (auto& d : scan_directives(text)) keys.push_back(std::move(d.key));
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string replace_directives(std::string_view text, std::string_view placeholder) {
  std::string out;
  size_t pos = 0;
  for (const auto& d : scan_directives(text)) {
    out.append(text.substr(pos, d.start - pos));
    out.append(placeholder);
    pos = d.start + d.length;
  }
  out.append(text.substr(pos));
  return out;
}

std::vector<std::string> markup_tags(std::string_view t) {
  std::vector<std::string> tags;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '<') continue;
    size_t j = i + 1;
    const bool close = j < t.size() && t[j] == '/';
    if (close) ++j;
    const size_t name_start = j;
    while (j < t.size() && is_ascii_alnum(static_cast<unsigned char>(t[j]))) ++j;
    std::string name(t.substr(name_start, j - name_start));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.empty() || !is_markup_name(name)) continue;
    const size_t end = t.find('>', j);
    if (end == std::string_view::npos) continue;
    if (j != end && t[j] != ' ' && t[j] != '/') continue;  // "<bold>" is not "<b>"
    const bool self_close = t[end - 1] == '/';
    tags.push_back((close ? "/" : "") + name + (self_close ? "/" : ""));
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

std::vector<SegmentPair> clean_pairs(const std::vector<SegmentPair>& pairs,
                                     const CleanOptions& options, CleanStats& stats) {
  stats.input += pairs.size();
  std::vector<SegmentPair> kept;
  for (const auto& p : pairs) {
    std::string src = normalize_whitespace(p.src), tgt = normalize_whitespace(p.tgt);
    if (options.strip_accelerators) {
      src = strip_accelerator(src);
      tgt = strip_accelerator(tgt);
    }
    if (src.empty() || tgt.empty()) {
      ++stats.empty;
      continue;
    }
    if (src == tgt) {
      ++stats.untranslated;
      continue;
    }
    const size_t ls = code_points(src), lt = code_points(tgt);
    if (ls > options.max_chars || lt > options.max_chars) {
      ++stats.too_long;
      continue;
    }
    if (static_cast<double>(std::max(ls, lt)) >
        options.max_ratio * static_cast<double>(std::min(ls, lt))) {
      ++stats.ratio;
      continue;
    }
    if (format_directives(src) != format_directives(tgt)) {
      ++stats.directives;
      continue;
    }
    if (markup_tags(src) != markup_tags(tgt)) {
      ++stats.markup;
      continue;
    }
    if (!options.placeholder.empty()) {
      src = replace_directives(src, options.placeholder);
      tgt = replace_directives(tgt, options.placeholder);
    }
    kept.push_back({std::move(src), std::move(tgt)});
  }

  // De-duplicate: per source, count each target; keep the most frequent (first seen on a tie).
  struct Candidate {
    size_t index;  // into `kept`, first occurrence
    size_t count;
  };
  std::unordered_map<std::string_view, size_t> group_of;  // source -> group
  std::vector<std::vector<Candidate>> groups;
  size_t distinct = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    auto [it, fresh] = group_of.try_emplace(kept[i].src, groups.size());
    if (fresh) groups.emplace_back();
    auto& g = groups[it->second];
    auto same = std::find_if(g.begin(), g.end(),
                             [&](const Candidate& c) { return kept[c.index].tgt == kept[i].tgt; });
    if (same != g.end()) {
      ++same->count;
      ++stats.duplicate;
    } else {
      g.push_back({i, 1});
      ++distinct;
    }
  }
  std::vector<SegmentPair> out;
  out.reserve(groups.size());
  for (const auto& g : groups) {
    const Candidate* best = &g[0];
    for (const auto& c : g)
      if (c.count > best->count) best = &c;
    out.push_back(kept[best->index]);
  }
  stats.conflicting += distinct - groups.size();
  stats.kept += out.size();
  return out;
}

std::vector<SplitPart> assign_splits(const std::vector<SegmentPair>& pairs, uint64_t seed,
                                     double valid_fraction, double test_fraction) {
  // u = top 53 bits of splitmix64(key ^ FNV-1a(source)) / 2^53, key a per-seed stream constant.
  const uint64_t key = splitmix64(seed ^ 0x5D1A7C3E9B2F4086ull);
  const size_t n = pairs.size();
  std::vector<double> u(n);
  std::vector<SplitPart> part(n);
  std::array<size_t, 3> count{};
  for (size_t i = 0; i < n; ++i) {
    u[i] = static_cast<double>(splitmix64(key ^ fnv1a64(pairs[i].src)) >> 11) *
           (1.0 / 9007199254740992.0);
    part[i] = u[i] < valid_fraction                   ? SplitPart::kValid
              : u[i] < valid_fraction + test_fraction ? SplitPart::kTest
                                                      : SplitPart::kTrain;
    ++count[static_cast<size_t>(part[i])];
  }
  auto take_from_train = [&](SplitPart to, bool smallest) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (part[i] != SplitPart::kTrain) continue;
      if (best == n || (smallest ? u[i] < u[best] : u[i] > u[best])) best = i;
    }
    if (best < n && count[0] > 1) {
      part[best] = to;
      --count[0];
      ++count[static_cast<size_t>(to)];
    }
  };
  if (n >= 3 && count[1] == 0) take_from_train(SplitPart::kValid, true);
  if (n >= 3 && count[2] == 0) take_from_train(SplitPart::kTest, false);
  return part;
}

std::vector<std::string> default_catalog_files(const std::string& dir_name) {
  const fs::path dir = dir_name;
  std::vector<std::string> files = files_with_extension(dir.string(), ".mo");
  if (files.empty())
    throw UserError(dir.string() +
                    ": no German gettext catalogs (*.mo) found; install some, e.g. "
                    "'apt-get install --no-install-recommends gcc-12-locales util-linux-locales "
                    "aptitude-common mc-data' (Debian), or pass "
                    "--src FILE --tgt FILE");
  return files;
}

std::vector<SegmentPair> read_parallel_files(const std::string& src_path,
                                             const std::string& tgt_path) {
  std::array<std::vector<std::string>, 2> lines;
  const std::array<const std::string*, 2> paths = {&src_path, &tgt_path};
  for (size_t k = 0; k < 2; ++k) {
    const std::string text = read_whole_file(*paths[k]);
    const char* why = "";
    if (size_t bad = find_invalid_utf8(text, &why); bad != std::string_view::npos)
      throw UserError(*paths[k] + ": invalid UTF-8 at byte " + std::to_string(bad) + " (" + why +
                      ")");
    lines[k] = split_lines(text);
  }
  if (lines[0].size() != lines[1].size())
    throw UserError(src_path + ": has " + std::to_string(lines[0].size()) + " lines but " +
                    tgt_path + " has " + std::to_string(lines[1].size()) +
                    "; source and target files must be line-aligned (one segment per line)");
  std::vector<SegmentPair> pairs(lines[0].size());
  for (size_t i = 0; i < pairs.size(); ++i)
    pairs[i] = {std::move(lines[0][i]), std::move(lines[1][i])};
  return pairs;
}

void prepare_parallel(const PrepareParallelOptions& options) {
  using Clock = std::chrono::steady_clock;
  const std::string& out_dir = options.out_dir;
  if (out_dir.empty()) throw UserError("prepare-parallel: no output directory given (--out_dir)");
  if (options.src_path.empty() != options.tgt_path.empty())
    throw UserError(std::string(options.src_path.empty() ? "--src" : "--tgt") +
                    ": give both --src and --tgt, or neither for the default gettext corpus");
  if (options.model_type != "bpe" && options.model_type != "unigram")
    throw UserError(out_dir + ": tokenizer model type '" + options.model_type +
                    "' is not one of bpe, unigram");
  if (!(options.valid_fraction >= 0 && options.test_fraction >= 0 &&
        options.valid_fraction + options.test_fraction < 1))
    throw UserError(out_dir + ": valid_fraction and test_fraction must be >= 0 with a sum below 1");
  constexpr int kMinVocab = 256 + 3 + 1;  // byte fallback, <unk>, <s>, </s>, one more
  if (options.vocab_size < kMinVocab)
    throw UserError(out_dir + ": vocab_size " + std::to_string(options.vocab_size) +
                    " is too small: byte fallback alone needs 259 pieces; use at least " +
                    std::to_string(kMinVocab));

  // ---- read
  std::vector<SegmentPair> raw;
  nlohmann::json inputs = nlohmann::json::array();
  CleanOptions clean = options.clean;
  std::string label;  // names the input in later errors
  size_t bad_utf8 = 0, bad_catalogs = 0;
  if (options.src_path.empty()) {
    const auto files = default_catalog_files();
    label = fs::path(files[0]).parent_path().string();
    for (const auto& f : files) {
      std::vector<MoEntry> entries;
      try {
        entries = read_mo_file(f);
      } catch (const UserError& e) {
        std::fprintf(stderr, "prepare-parallel: warning: skipping %s\n", e.what());
        ++bad_catalogs;
        continue;
      }
      size_t used = 0;
      for (auto& e : entries) {
        // Catalogs in a legacy charset would need iconv; their non-ASCII entries are skipped.
        if (find_invalid_utf8(e.msgid) != std::string_view::npos ||
            find_invalid_utf8(e.msgstr) != std::string_view::npos) {
          ++bad_utf8;
          continue;
        }
        raw.push_back({std::move(e.msgid), std::move(e.msgstr)});
        ++used;
      }
      inputs.push_back({{"path", f}, {"entries", used}});
    }
    clean.strip_accelerators = true;
    std::fprintf(stderr, "prepare-parallel: %zu entries from %zu catalogs in %s\n", raw.size(),
                 files.size() - bad_catalogs, label.c_str());
  } else {
    raw = read_parallel_files(options.src_path, options.tgt_path);
    label = options.src_path;
    inputs.push_back({{"src", options.src_path}, {"tgt", options.tgt_path}, {"lines", raw.size()}});
    clean.strip_accelerators = false;
    std::fprintf(stderr, "prepare-parallel: %zu line pairs from %s and %s\n", raw.size(),
                 options.src_path.c_str(), options.tgt_path.c_str());
  }

  // ---- clean, split
  CleanStats stats;
  std::vector<SegmentPair> pairs = clean_pairs(raw, clean, stats);
  raw.clear();
  raw.shrink_to_fit();
  std::fprintf(stderr,
               "prepare-parallel: kept %zu of %zu pairs (dropped: %zu empty, %zu untranslated, "
               "%zu too long, %zu length ratio, %zu directives, %zu markup, %zu duplicate, %zu "
               "other target for same source)\n",
               stats.kept, stats.input, stats.empty, stats.untranslated, stats.too_long,
               stats.ratio, stats.directives, stats.markup, stats.duplicate, stats.conflicting);
  if (pairs.empty()) throw UserError(label + ": no segment pairs left after cleaning");
  const auto part =
      assign_splits(pairs, options.seed, options.valid_fraction, options.test_fraction);
  std::array<std::vector<const SegmentPair*>, 3> parts;
  for (size_t i = 0; i < pairs.size(); ++i)
    parts[static_cast<size_t>(part[i])].push_back(&pairs[i]);
  static constexpr std::array<const char*, 3> kPartNames = {"train", "valid", "test"};
  std::fprintf(stderr, "prepare-parallel: %zu train, %zu valid, %zu test pairs\n", parts[0].size(),
               parts[1].size(), parts[2].size());

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir))
    throw UserError(out_dir + ": cannot create output directory" +
                    (ec ? ": " + ec.message() : std::string()));
  TempFiles temps;

  // ---- one tokenizer for both languages, trained on the train part of both sides
  std::vector<const std::string*> lines;
  lines.reserve(2 * parts[0].size());
  for (const auto* p : parts[0]) lines.push_back(&p->src);
  for (const auto* p : parts[0]) lines.push_back(&p->tgt);
  std::fprintf(stderr, "prepare-parallel: training shared %s tokenizer, vocab %d, on %zu lines\n",
               options.model_type.c_str(), options.vocab_size, lines.size());
  const auto t0 = Clock::now();
  std::string model_bytes =
      train_sentencepiece(lines, options.model_type, options.vocab_size, options.seed, label);
  lines.clear();
  const std::string model_path = out_dir + "/tokenizer.model";
  const std::string model_tmp = stage_file(model_path, model_bytes, temps);
  Tokenizer tok(model_tmp);
  std::fprintf(stderr, "prepare-parallel: tokenizer trained in %.1f s, %d pieces, identity %s\n",
               std::chrono::duration<double>(Clock::now() - t0).count(), tok.vocab_size(),
               tok.identity().c_str());

  // ---- encode: segment k of X.src and segment k of X.tgt are the k-th pair, each + EOS
  auto encode = [&](const std::vector<const SegmentPair*>& ps, bool target) {
    const long n = static_cast<long>(ps.size());
    std::vector<std::vector<int32_t>> per(ps.size());
    // Fixed concatenation order: the result does not depend on the thread count.
#pragma omp parallel for schedule(dynamic, 256)
    for (long i = 0; i < n; ++i) {
      const SegmentPair& p = *ps[static_cast<size_t>(i)];
      per[static_cast<size_t>(i)] = tok.encode(target ? p.tgt : p.src);
    }
    TokenFile f;
    f.vocab_size = static_cast<uint32_t>(tok.vocab_size());
    f.tokenizer_identity = tok.identity();
    size_t total = 0;
    for (const auto& v : per) total += v.size() + 1;
    f.tokens.reserve(total);
    for (const auto& v : per) {
      f.tokens.insert(f.tokens.end(), v.begin(), v.end());
      f.tokens.push_back(tok.eos_id());
    }
    return f;
  };

  nlohmann::json splits = nlohmann::json::object();
  std::array<std::array<TokenFile, 2>, 3> token_files;
  for (size_t k = 0; k < 3; ++k) {
    token_files[k][0] = encode(parts[k], false);
    token_files[k][1] = encode(parts[k], true);
    const std::string name = kPartNames[k];
    splits[name] = {{"pairs", parts[k].size()},
                    {"src_file", name + ".src.bin"},
                    {"tgt_file", name + ".tgt.bin"},
                    {"src_text", name + "." + options.src_lang},
                    {"tgt_text", name + "." + options.tgt_lang},
                    {"src_tokens", token_files[k][0].tokens.size()},
                    {"tgt_tokens", token_files[k][1].tokens.size()}};
  }
  std::fprintf(stderr, "prepare-parallel: %zu + %zu train tokens (src + tgt)\n",
               token_files[0][0].tokens.size(), token_files[0][1].tokens.size());

  // ---- write; meta.json last, so its presence marks a complete directory
  fs::rename(model_tmp, model_path, ec);
  if (ec) throw UserError(model_path + ": cannot rename temporary file: " + ec.message());
  for (size_t k = 0; k < 3; ++k) {
    const std::string base = out_dir + "/" + kPartNames[k];
    write_token_file(base + ".src.bin", token_files[k][0]);
    write_token_file(base + ".tgt.bin", token_files[k][1]);
    std::string src_text, tgt_text;
    for (const auto* p : parts[k]) {
      src_text += p->src + '\n';
      tgt_text += p->tgt + '\n';
    }
    write_text_atomic(base + "." + options.src_lang, src_text, temps);
    write_text_atomic(base + "." + options.tgt_lang, tgt_text, temps);
  }
  nlohmann::json meta = {
      {"format", "normlab-parallel-corpus"},
      {"version", 1},
      {"src_lang", options.src_lang},
      {"tgt_lang", options.tgt_lang},
      {"vocab_size", tok.vocab_size()},
      {"model_type", options.model_type},
      {"tokenizer", "tokenizer.model"},
      {"tokenizer_identity", tok.identity()},
      {"eos_id", tok.eos_id()},
      {"seed", options.seed},
      {"valid_fraction", options.valid_fraction},
      {"test_fraction", options.test_fraction},
      {"splits", splits},
      {"cleaning",
       {{"input_pairs", stats.input},
        {"kept", stats.kept},
        {"empty", stats.empty},
        {"untranslated", stats.untranslated},
        {"too_long", stats.too_long},
        {"length_ratio", stats.ratio},
        {"directive_mismatch", stats.directives},
        {"markup_mismatch", stats.markup},
        {"duplicate", stats.duplicate},
        {"other_target_same_source", stats.conflicting},
        {"invalid_utf8_entries", bad_utf8},
        {"unreadable_catalogs", bad_catalogs},
        {"max_chars", clean.max_chars},
        {"max_ratio", clean.max_ratio},
        {"strip_accelerators", clean.strip_accelerators},
        {"placeholder", clean.placeholder}}},
      {"inputs", inputs},
  };
  write_text_atomic(out_dir + "/meta.json", meta.dump(2) + "\n", temps);
  std::fprintf(stderr,
               "prepare-parallel: wrote %s/{tokenizer.model,{train,valid,test}.{src,tgt}.bin,"
               "{train,valid,test}.{%s,%s},meta.json}\n",
               out_dir.c_str(), options.src_lang.c_str(), options.tgt_lang.c_str());
}

}  // namespace normlab
