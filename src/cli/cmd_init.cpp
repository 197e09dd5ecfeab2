#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "model/block_description.hpp"
#include "model/checkpoint.hpp"

namespace normlab::cli {

Runner setup_init(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto out = std::make_shared<std::string>();
  add_config_flags(app, *flags, {"model"}, {"seed"});
  app.add_option(flag_names("out", "o"), *out, "Output model (.safetensors)")->required();
  return [flags, out]() {
    Config config = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(dump_config_with_layers(config).c_str(), stdout);
      return 0;
    }
    auto model = Model::create(config);
    model->initialize(static_cast<uint64_t>(config.get_int("seed")));
    save_model(*out, *model, {"", 0, ""});
    std::fprintf(stderr, "init: %zu parameters -> %s\n", model->params().parameter_count(),
                 out->c_str());
    return 0;
  };
}

}  // namespace normlab::cli
