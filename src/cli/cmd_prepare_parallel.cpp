#include "cli/commands.hpp"
#include "core/config.hpp"
#include "data/prepare_parallel.hpp"

namespace normlab::cli {

Runner setup_prepare_parallel(CLI::App& app) {
  // Plain CLI11 options: these paths and cleaning knobs are specific to this command and are not
  // part of the shared option vocabulary.
  auto o = std::make_shared<PrepareParallelOptions>();
  app.add_option("--src", o->src_path, "Source-language file, one segment per line");
  app.add_option("--tgt", o->tgt_path, "Target-language file, line-aligned with --src");
  app.add_option("--out_dir,--out-dir", o->out_dir, "Output directory")->required();
  app.add_option("--vocab_size,--vocab-size", o->vocab_size, "Shared SentencePiece vocabulary size")
      ->capture_default_str();
  app.add_option("--tokenizer", o->model_type, "SentencePiece model type: bpe | unigram")
      ->capture_default_str();
  app.add_option("--seed", o->seed, "Seed of the train/valid/test split")->capture_default_str();
  app.add_option("--valid_fraction,--valid-fraction", o->valid_fraction,
                 "Share of pairs held out for validation")
      ->capture_default_str();
  app.add_option("--test_fraction,--test-fraction", o->test_fraction,
                 "Share of pairs held out for testing")
      ->capture_default_str();
  app.add_option("--src_lang,--src-lang", o->src_lang, "Suffix of the source text outputs")
      ->capture_default_str();
  app.add_option("--tgt_lang,--tgt-lang", o->tgt_lang, "Suffix of the target text outputs")
      ->capture_default_str();
  app.add_option("--max_chars,--max-chars", o->clean.max_chars,
                 "Drop pairs with a side longer than this many characters")
      ->capture_default_str();
  app.add_option("--max_ratio,--max-ratio", o->clean.max_ratio,
                 "Drop pairs whose longer side exceeds the shorter by this factor")
      ->capture_default_str();
  app.add_option("--placeholder", o->clean.placeholder,
                 "Replace format directives (%s, {0}, ...) with this text; empty keeps them");
  return [o]() {
    prepare_parallel(*o);
    return 0;
  };
}

}  // namespace normlab::cli
