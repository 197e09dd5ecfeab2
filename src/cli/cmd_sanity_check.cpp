// `normlab sanity-check`: the depth sanity check of a block design (docs/sanity-check.md). The
// design comes from the usual model flags; the check builds it at several depths and prints the
// verdict table.
#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "data/markov_chain.hpp"
#include "data/token_file.hpp"
#include "train/sanity_check.hpp"

namespace normlab::cli {

namespace {

// A small width for an interactive check; config files and flags override each of them.
const std::pair<const char*, const char*> kSmallDefaults[] = {
    {"d_model", "64"},   {"n_heads", "4"},      {"d_ff", "256"}, {"seq_len", "32"},
    {"batch_size", "8"}, {"vocab_size", "256"}, {"warmup", "10"}};

// Synthetic stream length: far more windows than a short run draws.
constexpr size_t kSyntheticTokens = 1 << 17;
// The chain is fixed, independent of --seed, so that every design sees the same task.
constexpr uint64_t kChainSeed = 0x5A17C4EC;

}  // namespace

Runner setup_sanity_check(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto options = std::make_shared<SanityOptions>();
  auto data = std::make_shared<std::string>();
  auto json_path = std::make_shared<std::string>();
  add_config_flags(app, *flags, {"model", "train"});
  // The help shows the defaults this command uses, not the global ones (all of them are ints).
  for (const auto& [key, value] : kSmallDefaults)
    if (CLI::Option* o = app.get_option_no_throw(std::string("--") + key))
      o->option_text(std::string("INT=") + value);
  app.add_option("--depths", options->depths, "Depths L to build, comma-separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--train-steps,--train_steps", options->train_steps,
                 "AdamW steps of the short training run at each depth (0: initialisation only)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--seeds", options->init_seeds,
                 "Initialisations averaged in the measurement at step 0")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batches", options->batches, "Measurement batches per model")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--data", *data,
                 "Prepared corpus directory (reads DIR/train.bin; vocab_size from it). Default: "
                 "a fixed random bigram chain over vocab_size ids");
  app.add_option("--json", *json_path, "Also write everything measured and fitted as JSON");
  return [=]() {
    Config config = Config::defaults();
    for (const auto& [key, value] : kSmallDefaults) config.set(key, value, "sanity-check default");
    for (const auto& f : flags->files) config.merge_file(f);
    for (const auto& [key, value] : flags->flags) config.set(key, value, "--" + key);
    const std::string dir = data->empty() ? config.get_string("data") : *data;
    std::vector<int32_t> tokens;
    std::string label;
    if (!dir.empty()) {
      label = (std::filesystem::path(dir) / "train.bin").string();
      TokenFile tf = read_token_file(label);
      config.set("vocab_size", std::to_string(tf.vocab_size), label);
      tokens = std::move(tf.tokens);
    } else {
      label = "markov(" + std::to_string(config.get_int("vocab_size")) + ")";
    }
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
    }
    if (dir.empty())
      tokens = markov_tokens(static_cast<int>(config.get_int("vocab_size")), kSyntheticTokens,
                             kChainSeed);
    // Opened before the run so that a bad path fails at once, not after minutes of measuring.
    std::ofstream json_out;
    if (!json_path->empty()) {
      json_out.open(*json_path);
      if (!json_out) throw UserError(*json_path + ": cannot write");
    }
    const int threads = static_cast<int>(config.get_int("threads"));
    if (threads > 0) omp_set_num_threads(threads);
    SanityReport report =
        run_sanity_check(config, *options, tokens, label, [](const std::string& line) {
          std::fprintf(stderr, "%s\n", line.c_str());
          std::fflush(stderr);
        });
    std::fputs(format_report(report).c_str(), stdout);
    if (json_out.is_open()) {
      json_out << report_json(report).dump(1) << '\n';
      json_out.flush();
      if (!json_out) throw UserError(*json_path + ": cannot write");
    }
    return 0;
  };
}

}  // namespace normlab::cli
