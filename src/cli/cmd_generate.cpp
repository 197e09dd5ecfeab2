#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "core/utf8.hpp"
#include "data/tokenizer.hpp"
#include "decode/generate.hpp"
#include "model/checkpoint.hpp"
#include "model/decoder_lm.hpp"

namespace normlab::cli {

Runner setup_generate(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto model_path = std::make_shared<std::string>();
  auto tokenizer_path = std::make_shared<std::string>();
  auto prompt = std::make_shared<std::string>();
  add_config_flags(app, *flags, {"generate"}, {"seed"});
  app.add_option(flag_names("model", "m"), *model_path,
                 "Checkpoint (.safetensors, or a run directory)")
      ->required();
  app.add_option(flag_names("tokenizer"), *tokenizer_path,
                 "SentencePiece model (default: tokenizer.model beside the checkpoint)");
  app.add_option(flag_names("prompt", "p"), *prompt, "Text to continue");
  return [=]() {
    Config config = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
    }
    if (const size_t bad = find_invalid_utf8(*prompt); bad != std::string::npos)
      throw UserError("--prompt: invalid UTF-8 at byte " + std::to_string(bad));
    CheckpointInfo info;
    auto model = load_model_as<DecoderLM>(
        *model_path, &info, "a language model (arch=lm; use 'normlab translate' for arch=encdec)");
    Tokenizer tokenizer =
        checkpoint_tokenizer(*model_path, *tokenizer_path, info, model->shape().vocab);
    GenerateSettings g;
    g.max_tokens = static_cast<int>(config.get_int("max_tokens"));
    g.sampling.temperature = static_cast<float>(config.get_float("temperature"));
    g.sampling.top_k = static_cast<int>(config.get_int("top_k"));
    g.sampling.top_p = static_cast<float>(config.get_float("top_p"));
    g.seed = static_cast<uint64_t>(config.get_int("seed"));
    std::fputs(prompt->c_str(), stdout);
    GenerateStats stats = generate(*model, tokenizer, *prompt, g, [](const std::string& piece) {
      std::fputs(piece.c_str(), stdout);
      std::fflush(stdout);
    });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    std::fprintf(stderr, "generate: %d tokens, %.1f tokens/s\n", stats.tokens, stats.tokens_per_s);
    return 0;
  };
}

}  // namespace normlab::cli
