// normlab: train Transformer LMs with any layer-normalization placement.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <new>
#include <string>
#include <thread>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "core/config.hpp"
#include "train/distributed.hpp"

namespace {

// Prints the error and, under MPI, ends the whole job: the other ranks may be waiting in a
// collective for this one and would hang. A rank other than 0 waits 5 s first, so that when
// every rank fails alike (a config error) rank 0's abort ends it and its line is the only one.
int fail(int code, const char* kind, const std::string& what) {
  const normlab::Ranks* ranks = nullptr;
  try {
    ranks = &normlab::Ranks::world();
  } catch (const std::exception&) {  // the launcher-without-MPI error, already being reported
  }
  if (ranks && !ranks->is_root()) std::this_thread::sleep_for(std::chrono::seconds(5));
  std::fprintf(stderr, "normlab: %s: %s\n", kind, what.c_str());
  std::fflush(stderr);
  if (ranks) ranks->abort_others(code);
  return code;
}

int fail(const std::string& message) {
  return fail(1, "error", message);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace normlab::cli;
  CLI::App app{
      "normlab: Transformer training where the placement of layer normalization is a "
      "first-class choice"};
  app.set_version_flag("--version", "normlab " NORMLAB_VERSION);
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
  // Exit codes (docs/reliability.md, "Errors and exit codes"): 0 done, 1 an error in what was
  // given (command line, config, data, checkpoint, a file that cannot be read or written), 2 a
  // bug in normlab. Every error is one line on stderr.
  try {
    check_command_word(app, argc, argv);
    for (auto& [sub, run] : runners) sub->allow_extras();
    app.parse(argc, argv);
    for (auto& [sub, run] : runners)
      if (sub->parsed()) {
        check_no_extras(app, *sub);
        return run();
      }
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    return fail(parse_error_message(e));
  } catch (const normlab::UserError& e) {
    return fail(e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    return fail(e.path1().empty() ? e.what() : e.path1().string() + ": " + e.code().message());
  } catch (const std::bad_alloc&) {
    return fail("out of memory (a smaller model, batch or seq_len needs less)");
  } catch (const std::exception& e) {
    return fail(2, "internal error", e.what());
  }
  return 0;
}
