// normlab: train Transformer LMs with any layer-normalization placement.
#include <cstdio>
#include <map>

#include "cli/commands.hpp"
#include "core/config.hpp"

int main(int argc, char** argv) {
  using namespace normlab::cli;
  CLI::App app{
      "normlab: Transformer training where the placement of layer normalization is a "
      "first-class choice"};
  app.require_subcommand(1);
  std::map<CLI::App*, Runner> runners;
  auto add = [&](const char* name, const char* help, Runner (*setup)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    runners[sub] = setup(*sub);
  };
  add("prepare", "Train a SentencePiece tokenizer and write token files", setup_prepare);
  add("prepare-parallel", "Build a parallel corpus (default: English-German from gettext catalogs)",
      setup_prepare_parallel);
  add("train", "Train a language model or an encoder-decoder", setup_train);
  add("generate", "Generate text from a language model checkpoint", setup_generate);
  add("translate", "Translate text lines with an encoder-decoder checkpoint (beam search)",
      setup_translate);
  add("init", "Write a freshly initialised model", setup_init);
  add("grad", "Loss and every parameter gradient on a given batch", setup_grad);
  add("sanity-check", "Forward growth and gradient flow of a block design across depths",
      setup_sanity_check);
  add("sweep", "Train a grid of placements x depths x learning rates x dt x seeds", setup_sweep);
  add("report", "One self-contained HTML report (and PNG charts) from run directories",
      setup_report);
  add("eval", "Score hypotheses against references: BLEU, chrF, ROUGE", setup_eval);
  add("export", "Write a checkpoint in another framework's layout (Hugging Face GPT-2)",
      setup_export);
  add("options", "List every option (config key and flag) with its documentation", setup_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const normlab::UserError& e) {
    std::fprintf(stderr, "normlab: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
