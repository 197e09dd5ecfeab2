#include "data/prepare.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/rng.hpp"
#include "data/corpus_encoding.hpp"
#include "data/sentencepiece_training.hpp"
#include "data/staged_files.hpp"
#include "data/token_file.hpp"
#include "data/tokenizer.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

bool is_separator_line(std::string_view line) {
  size_t end = line.size();
  while (end > 0 && is_space(line[end - 1])) --end;
  return end == 0 || (end == 1 && line[0] == '%');
}

}  // namespace

std::vector<std::string> split_documents(std::string_view text) {
  std::vector<std::string> docs;
  std::string cur;
  bool open = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_separator_line(line)) {
      if (open) docs.push_back(std::move(cur));
      cur.clear();
      open = false;
    } else {
      if (open) cur += '\n';
      cur.append(line);
      open = true;
    }
    pos = nl + 1;
  }
  if (open) docs.push_back(std::move(cur));
  return docs;
}

std::vector<bool> assign_validation(uint64_t seed, size_t n, double valid_fraction) {
  // u(seed, i) = top 53 bits of splitmix64(splitmix64(seed ^ K) + i) / 2^53, K a fixed stream
  // constant so that the split is unrelated to the batch stream of the same seed.
  const uint64_t key = splitmix64(seed ^ 0x7A3C5E1D2B4F6987ull);
  std::vector<double> u(n);
  std::vector<bool> valid(n);
  size_t n_valid = 0;
  for (size_t i = 0; i < n; ++i) {
    u[i] = static_cast<double>(splitmix64(key + i) >> 11) * (1.0 / 9007199254740992.0);
    valid[i] = u[i] < valid_fraction;
    n_valid += valid[i];
  }
  if (n >= 2 && n_valid == 0)
    valid[static_cast<size_t>(std::min_element(u.begin(), u.end()) - u.begin())] = true;
  if (n >= 2 && n_valid == n)
    valid[static_cast<size_t>(std::max_element(u.begin(), u.end()) - u.begin())] = false;
  return valid;
}

std::vector<std::string> default_corpus_files() {
  // fortunes-min ships fortunes, literature and riddles; fortunes adds the other categories. Both
  // install a NAME.u8 (UTF-8) alongside each NAME file, so globbing *.u8 picks up whichever exist.
  const fs::path dir = "/usr/share/games/fortunes";
  std::vector<std::string> files = files_with_extension(dir.string(), ".u8");
  if (files.empty())
    throw UserError(dir.string() +
                    ": no *.u8 fortune files found; install the default corpus with "
                    "'apt-get install fortunes' (or 'fortunes-min'), or pass --input FILES");
  return files;
}

namespace {

// "a.txt", or "a.txt (+3 more files)" for error messages that concern the whole input.
std::string inputs_label(const std::vector<std::string>& inputs) {
  if (inputs.size() == 1) return inputs[0];
  return inputs[0] + " (+" + std::to_string(inputs.size() - 1) + " more files)";
}

std::string human_bytes(uint64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b < 1e6)
    std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  return buf;
}

struct Split {
  std::vector<std::string> docs;
  uint64_t bytes = 0;
};

}  // namespace

void prepare_corpus(const PrepareOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (options.inputs.empty()) throw UserError("prepare: no input files given");
  const std::string& out_dir = options.out_dir;
  if (out_dir.empty()) throw UserError("prepare: no output directory given (--out_dir)");
  if (options.model_type != "bpe" && options.model_type != "unigram")
    throw UserError(out_dir + ": tokenizer model type '" + options.model_type +
                    "' is not one of bpe, unigram");
  if (!(options.valid_fraction >= 0.0 && options.valid_fraction <= 1.0))
    throw UserError(out_dir + ": valid_fraction " + std::to_string(options.valid_fraction) +
                    " is outside [0, 1]");
  // Byte fallback reserves 256 byte pieces, plus <unk>, <s>, </s>.
  constexpr int kMinVocab = 256 + 3 + 1;
  if (options.vocab_size < kMinVocab)
    throw UserError(out_dir + ": vocab_size " + std::to_string(options.vocab_size) +
                    " is too small: byte fallback alone needs 259 pieces; use at least " +
                    std::to_string(kMinVocab) + " (a few hundred more for a useful tokenizer)");

  // ---- read, validate, split
  std::vector<std::string> docs;
  std::vector<nlohmann::json> input_meta;
  uint64_t total_bytes = 0;
  for (const auto& path : options.inputs) {
    const std::string text = read_utf8_file(path);
    auto file_docs = split_documents(text);
    input_meta.push_back({{"path", path}, {"bytes", text.size()}, {"documents", file_docs.size()}});
    total_bytes += text.size();
    for (auto& d : file_docs) docs.push_back(std::move(d));
  }
  if (docs.empty()) {
    std::string names;
    for (size_t i = 0; i < options.inputs.size(); ++i) names += (i ? ", " : "") + options.inputs[i];
    throw UserError(names +
                    ": no text to prepare (input is empty or only whitespace and '%' "
                    "separator lines)");
  }

  const std::vector<bool> is_valid =
      assign_validation(options.seed, docs.size(), options.valid_fraction);
  Split train, valid;
  for (size_t i = 0; i < docs.size(); ++i) {
    Split& s = is_valid[i] ? valid : train;
    s.bytes += docs[i].size();
    s.docs.push_back(std::move(docs[i]));
  }
  docs.clear();
  std::fprintf(stderr, "prepare: %s of text in %zu files, %zu documents (%zu train, %zu valid)\n",
               human_bytes(total_bytes).c_str(), options.inputs.size(),
               train.docs.size() + valid.docs.size(), train.docs.size(), valid.docs.size());
  if (valid.docs.empty())
    std::fprintf(stderr, "prepare: warning: only one document, validation set is empty\n");

  // ---- train the tokenizer
  create_output_dir(out_dir);
  TempFiles temps;

  std::vector<std::string> lines;
  for (const auto& d : train.docs) {
    size_t pos = 0;
    while (pos <= d.size()) {
      size_t nl = d.find('\n', pos);
      if (nl == std::string::npos) nl = d.size();
      if (nl > pos) lines.emplace_back(d, pos, nl - pos);
      pos = nl + 1;
    }
  }
  std::fprintf(stderr, "prepare: training %s tokenizer, vocab %d, on %zu lines\n",
               options.model_type.c_str(), options.vocab_size, lines.size());
  const auto t0 = Clock::now();
  std::vector<const std::string*> line_ptrs;
  line_ptrs.reserve(lines.size());
  for (const auto& l : lines) line_ptrs.push_back(&l);
  const std::string model_bytes =
      train_sentencepiece(line_ptrs, options.model_type, options.vocab_size, options.seed,
                          inputs_label(options.inputs));
  lines.clear();
  lines.shrink_to_fit();
  const std::string model_path = out_dir + "/tokenizer.model";
  const std::string model_tmp = stage_file(model_path, model_bytes, temps);
  Tokenizer tok(model_tmp);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr, "prepare: tokenizer trained in %.1f s, %d pieces, identity %s\n", secs,
               tok.vocab_size(), tok.identity().c_str());

  // ---- encode: each document followed by EOS, documents in input order
  auto encode_all = [&](const Split& s) {
    std::vector<const std::string*> docs;
    docs.reserve(s.docs.size());
    for (const auto& d : s.docs) docs.push_back(&d);
    return encode_segments(tok, docs);
  };
  TokenFile train_tokens = encode_all(train);
  TokenFile valid_tokens = encode_all(valid);
  std::fprintf(stderr, "prepare: %zu train tokens (%.2f bytes/token), %zu valid tokens\n",
               train_tokens.tokens.size(),
               train_tokens.tokens.empty() ? 0.0
                                           : static_cast<double>(train.bytes) /
                                                 static_cast<double>(train_tokens.tokens.size()),
               valid_tokens.tokens.size());

  // ---- write; meta.json last, so its presence marks a complete directory
  nlohmann::json meta = {
      {"format", "normlab-corpus"},
      {"version", 1},
      {"seed", options.seed},
      {"valid_fraction", options.valid_fraction},
      {"train",
       {{"file", "train.bin"},
        {"documents", train.docs.size()},
        {"bytes", train.bytes},
        {"tokens", train_tokens.tokens.size()}}},
      {"valid",
       {{"file", "valid.bin"},
        {"documents", valid.docs.size()},
        {"bytes", valid.bytes},
        {"tokens", valid_tokens.tokens.size()}}},
      {"inputs", input_meta},
  };
  meta.update(tokenizer_meta(tok, options.model_type));  // (json objects keep keys sorted)
  rename_staged(model_tmp, model_path);
  write_token_file(out_dir + "/train.bin", train_tokens);
  write_token_file(out_dir + "/valid.bin", valid_tokens);
  write_text_atomic(out_dir + "/meta.json", meta.dump(2) + "\n", temps);
  std::fprintf(stderr, "prepare: wrote %s/{tokenizer.model,train.bin,valid.bin,meta.json}\n",
               out_dir.c_str());
}

}  // namespace normlab
