// `normlab translate`: translate (or summarize) text lines with an encoder–decoder checkpoint,
// greedy or beam search (decode/translate.hpp).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "decode/translate.hpp"
#include "model/checkpoint.hpp"

namespace normlab::cli {

namespace {
std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::string line;
  if (path == "-") {
    while (std::getline(std::cin, line)) lines.push_back(line);
    return lines;
  }
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open");
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
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
  app.add_option("--model,-m", *model_path, "Encoder-decoder checkpoint (.safetensors)")
      ->required();
  app.add_option("--tokenizer", *tokenizer_path,
                 "SentencePiece model (default: tokenizer.model beside the checkpoint)");
  app.add_option("--input,-i", *input, "Source text, one segment per line ('-': stdin)");
  app.add_option("--output,-o", *output, "Where to write the translations (default: stdout)");
  return [=]() {
    Config config = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
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
    std::FILE* out = stdout;
    std::string tmp;
    if (!output->empty()) {  // written whole, then renamed: no half-written output file
      tmp = *output + ".tmp";
      out = std::fopen(tmp.c_str(), "w");
      if (!out) throw UserError(*output + ": cannot open for writing");
    }
    TranslateStats stats =
        translate_lines(*model, tokenizer, lines, settings, [&](size_t, const std::string& text) {
          std::fputs(text.c_str(), out);
          std::fputc('\n', out);
          if (out == stdout) std::fflush(out);
        });
    if (out != stdout) {
      if (std::fclose(out) != 0 || std::rename(tmp.c_str(), output->c_str()) != 0)
        throw UserError(*output + ": cannot write");
    }
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
