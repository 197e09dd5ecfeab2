#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "data/prepare.hpp"

namespace normlab::cli {

Runner setup_prepare(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  // The tokenizer's vocabulary size is the model's: one key; the seed draws the train/valid split.
  add_config_flags(app, *flags, {"prepare"}, {"out_dir", "vocab_size", "seed"});
  return [flags]() {
    Config config = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
    }
    PrepareOptions o;
    const std::string& input = config.get_string("input");
    if (input.empty()) {
      o.inputs = default_corpus_files();
    } else {
      size_t start = 0;
      while (start <= input.size()) {
        size_t comma = input.find(',', start);
        if (comma == std::string::npos) comma = input.size();
        if (comma > start) o.inputs.push_back(input.substr(start, comma - start));
        start = comma + 1;
      }
    }
    o.out_dir = config.get_string("out_dir");
    if (o.out_dir.empty()) throw UserError("option 'out_dir': give the output directory");
    o.vocab_size = static_cast<int>(config.get_int("vocab_size"));
    o.model_type = config.get_string("tokenizer_type");
    o.valid_fraction = config.get_float("valid_fraction");
    o.seed = static_cast<uint64_t>(config.get_int("seed"));
    prepare_corpus(o);
    return 0;
  };
}

}  // namespace normlab::cli
