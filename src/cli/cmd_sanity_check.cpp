// `normlab sanity-check`: the depth sanity check of a block design (docs/sanity-check.md). The
// design comes from the usual model flags; the check builds it at several depths and prints the
// verdict table.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "core/options.hpp"
#include "core/threads.hpp"
#include "data/markov_chain.hpp"
#include "data/token_file.hpp"
#include "train/sanity_check.hpp"

namespace normlab::cli {

namespace {

// A small width for an interactive check, and the depths to build; config files and flags
// override each of them.
const std::vector<ConfigSetting> kCommandDefaults = {
    {"d_model", "64", "sanity-check default"},
    {"n_heads", "4", "sanity-check default"},
    {"d_ff", "256", "sanity-check default"},
    {"seq_len", "32", "sanity-check default"},
    {"batch_size", "8", "sanity-check default"},
    {"vocab_size", "256", "sanity-check default"},
    {"warmup", "10", "sanity-check default"},
    {"depths", "2,4,8,16,32,64", "sanity-check default"}};

// Synthetic stream length: far more windows than a short run draws.
constexpr size_t kSyntheticTokens = 1 << 17;
// The chain is fixed, independent of --seed, so that every design sees the same task.
constexpr uint64_t kChainSeed = 0x5A17C4EC;

}  // namespace

Runner setup_sanity_check(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto json_path = std::make_shared<std::string>();
  add_config_flags(app, *flags, {"model", "train", "sanity"}, {"depths", "data"});
  // The help shows the defaults this command uses, not the global ones.
  for (const auto& s : kCommandDefaults)
    if (CLI::Option* o = app.get_option_no_throw("--" + s.key))
      o->option_text((find_option(s.key)->type == OptionType::Int ? "INT=" : "TEXT=") + s.value);
  app.add_option("--json", *json_path, "Also write everything measured and fitted as JSON");
  return [=]() {
    Config config = resolve_config(*flags, Config::defaults(), kCommandDefaults);
    const std::string dir = config.get_string("data");
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
    const SanityOptions options = sanity_options(config);
    if (dir.empty())
      tokens = markov_tokens(static_cast<int>(config.get_int("vocab_size")), kSyntheticTokens,
                             kChainSeed);
    // Opened before the run so that a bad path fails at once, not after minutes of measuring.
    std::ofstream json_out;
    if (!json_path->empty()) {
      json_out.open(*json_path);
      if (!json_out) throw UserError(*json_path + ": cannot write");
    }
    configure_threads(static_cast<int>(config.get_int("threads")));
    SanityReport report =
        run_sanity_check(config, options, tokens, label, [](const std::string& line) {
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
