#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "data/prepare_parallel.hpp"

namespace normlab::cli {

namespace {
// A parallel corpus is larger than prepare's text files: a larger vocabulary, a smaller share held
// out.
const std::vector<ConfigSetting> kCommandDefaults = {
    {"vocab_size", "8000", "prepare-parallel default"},
    {"valid_fraction", "0.02", "prepare-parallel default"}};
}  // namespace

Runner setup_prepare_parallel(CLI::App& app) {
  // The options a corpus shares with 'prepare' come from the vocabulary; the paths and cleaning
  // knobs below are this command's own.
  auto flags = std::make_shared<ConfigFlags>();
  auto o = std::make_shared<PrepareParallelOptions>();
  add_config_flags(app, *flags, {}, {"out_dir", "vocab_size", "tokenizer_type", "valid_fraction"});
  show_command_defaults(app, kCommandDefaults);
  app.add_option("--src", o->src_path, "Source-language file, one segment per line");
  app.add_option("--tgt", o->tgt_path, "Target-language file, line-aligned with --src");
  app.add_option("--seed", o->seed, "Seed of the train/valid/test split")
      ->type_name("INT")
      ->capture_default_str();
  app.add_option(flag_names("test_fraction"), o->test_fraction,
                 "Share of pairs held out for testing")
      ->capture_default_str();
  app.add_option(flag_names("src_lang"), o->src_lang, "Suffix of the source text outputs")
      ->capture_default_str();
  app.add_option(flag_names("tgt_lang"), o->tgt_lang, "Suffix of the target text outputs")
      ->capture_default_str();
  app.add_option(flag_names("max_chars"), o->clean.max_chars,
                 "Drop pairs with a side longer than this many characters")
      ->capture_default_str();
  app.add_option(flag_names("max_ratio"), o->clean.max_ratio,
                 "Drop pairs whose longer side exceeds the shorter by this factor")
      ->capture_default_str();
  app.add_option("--placeholder", o->clean.placeholder,
                 "Replace format directives (%s, {0}, ...) with this text; empty keeps them");
  return [flags, o]() {
    const Config config = resolve_config(*flags, Config::defaults(), kCommandDefaults);
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
    }
    PrepareParallelOptions options = *o;
    options.out_dir = config.get_string("out_dir");
    options.vocab_size = static_cast<int>(config.get_int("vocab_size"));
    options.model_type = config.get_string("tokenizer_type");
    options.valid_fraction = config.get_float("valid_fraction");
    prepare_parallel(options);
    return 0;
  };
}

}  // namespace normlab::cli
