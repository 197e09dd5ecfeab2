#include "data/prepare_parallel.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "data/corpus_encoding.hpp"
#include "data/parallel_sources.hpp"
#include "data/parallel_split.hpp"
#include "data/sentencepiece_training.hpp"
#include "data/staged_files.hpp"
#include "data/token_file.hpp"
#include "data/tokenizer.hpp"

namespace normlab {

namespace fs = std::filesystem;

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
    CatalogPairs catalogs = read_catalog_pairs(files);
    for (const auto& why : catalogs.skipped)
      std::fprintf(stderr, "prepare-parallel: warning: skipping %s\n", why.c_str());
    for (const auto& [path, used] : catalogs.used)
      inputs.push_back({{"path", path}, {"entries", used}});
    raw = std::move(catalogs.pairs);
    bad_utf8 = catalogs.invalid_utf8;
    bad_catalogs = catalogs.skipped.size();
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
  SplitStats split_stats;
  const auto part = assign_splits(pairs, options.seed, options.valid_fraction,
                                  options.test_fraction, &split_stats);
  std::array<std::vector<const SegmentPair*>, 3> parts;
  for (size_t i = 0; i < pairs.size(); ++i)
    parts[static_cast<size_t>(part[i])].push_back(&pairs[i]);
  static constexpr std::array<const char*, 3> kPartNames = {"train", "valid", "test"};
  std::fprintf(stderr,
               "prepare-parallel: %zu train, %zu valid, %zu test pairs (%zu near-duplicate groups "
               "of %zu pairs, largest %zu, kept in one part: %zu pairs moved, %zu of them into "
               "train)\n",
               parts[0].size(), parts[1].size(), parts[2].size(), split_stats.groups,
               split_stats.grouped_pairs, split_stats.largest_group, split_stats.moved,
               split_stats.moved_to_train);

  create_output_dir(out_dir);
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
    std::vector<const std::string*> side;
    side.reserve(ps.size());
    for (const auto* p : ps) side.push_back(target ? &p->tgt : &p->src);
    return encode_segments(tok, side);
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
  rename_staged(model_tmp, model_path);
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
      {"seed", options.seed},
      {"valid_fraction", options.valid_fraction},
      {"test_fraction", options.test_fraction},
      {"splits", splits},
      {"near_duplicates",
       {{"groups", split_stats.groups},
        {"grouped_pairs", split_stats.grouped_pairs},
        {"largest_group", split_stats.largest_group},
        {"moved", split_stats.moved},
        {"moved_to_train", split_stats.moved_to_train}}},
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
  meta.update(tokenizer_meta(tok, options.model_type));  // (json objects keep keys sorted)
  write_text_atomic(out_dir + "/meta.json", meta.dump(2) + "\n", temps);
  std::fprintf(stderr,
               "prepare-parallel: wrote %s/{tokenizer.model,{train,valid,test}.{src,tgt}.bin,"
               "{train,valid,test}.{%s,%s},meta.json}\n",
               out_dir.c_str(), options.src_lang.c_str(), options.tgt_lang.c_str());
}

}  // namespace normlab
