// `normlab translate`: translate (or summarize) text lines with an encoder–decoder checkpoint,
// greedy or beam search (decode/translate.hpp).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "core/files.hpp"
#include "core/utf8.hpp"
#include "decode/translate.hpp"
#include "model/checkpoint.hpp"

namespace normlab::cli {

namespace {
// The source segments, one per line; an invalid UTF-8 line is an error naming the line, since the
// tokenizer would otherwise turn it into byte pieces no reference matches.
std::vector<std::string> read_lines(const std::string& path) {
  const std::string where = path == "-" ? "stdin" : path;
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) throw UserError(path + ": cannot open");
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (const size_t bad = find_invalid_utf8(line); bad != std::string::npos)
      throw UserError(where + ": line " + std::to_string(lines.size() + 1) +
                      ": invalid UTF-8 at byte " + std::to_string(bad));
    lines.push_back(line);
  }
  if (in.bad()) throw UserError(where + ": read error");
  return lines;
}
}  // namespace

Runner setup_translate(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto model_path = std::make_shared<std::string>();
  auto tokenizer_path = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>("-");
  auto output = std::make_shared<std::string>();
  add_config_flags(app, *flags, {"translate"});
  app.add_option(flag_names("model", "m"), *model_path,
                 "Encoder-decoder checkpoint (.safetensors, or a run directory)")
      ->required();
  app.add_option(flag_names("tokenizer"), *tokenizer_path,
                 "SentencePiece model (default: tokenizer.model beside the checkpoint)");
  app.add_option(flag_names("input", "i"), *input,
                 "Source text, one segment per line ('-': stdin)");
  app.add_option(flag_names("out", "o"), *output,
                 "Where to write the translations (default: stdout)");
  return [=]() {
    Config config = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
    }
    // Checked before the (slow) translation, not found out at the end of it.
    if (!output->empty()) {
      const std::filesystem::path dir = std::filesystem::path(*output).parent_path();
      if (::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0)
        throw UserError(*output + ": cannot write: " + std::strerror(errno));
    }
    CheckpointInfo info;
    auto model = load_model_as<EncoderDecoder>(
        *model_path, &info, "an encoder-decoder (arch=encdec; use 'normlab generate' for arch=lm)");
    Tokenizer tokenizer =
        checkpoint_tokenizer(*model_path, *tokenizer_path, info, model->shape().vocab);
    TranslateSettings settings;
    settings.search.beam = static_cast<int>(config.get_int("beam"));
    settings.search.length_penalty = static_cast<float>(config.get_float("length_penalty"));
    settings.search.max_len_a = static_cast<float>(config.get_float("max_len_a"));
    settings.search.max_len_b = static_cast<int>(config.get_int("max_len_b"));
    settings.batch_sentences = static_cast<int>(config.get_int("batch_sentences"));
    const std::vector<std::string> lines = read_lines(*input);
    // To a file: collected, then written whole and renamed (core/files.hpp), so a failure part
    // way leaves neither a partial output nor a temporary file.
    std::string collected;
    TranslateStats stats =
        translate_lines(*model, tokenizer, lines, settings, [&](size_t, const std::string& text) {
          if (!output->empty()) {
            collected += text + '\n';
            return;
          }
          std::fputs(text.c_str(), stdout);
          std::fputc('\n', stdout);
          std::fflush(stdout);
        });
    if (!output->empty()) write_text_atomic(*output, collected);
    std::fprintf(stderr, "translate: %ld segments, %ld output tokens in %.1f s (%.0f tokens/s)%s\n",
                 stats.sentences, stats.output_tokens, stats.seconds,
                 stats.seconds > 0 ? stats.output_tokens / stats.seconds : 0.0,
                 stats.truncated
                     ? (", " + std::to_string(stats.truncated) + " sources cut to seq_len").c_str()
                     : "");
    return 0;
  };
}

}  // namespace normlab::cli
