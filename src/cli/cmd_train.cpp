#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "train/trainer.hpp"

namespace normlab::cli {

Runner setup_train(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto resume = std::make_shared<bool>(false);
  add_config_flags(app, *flags, {"model", "train", "data", "run"});
  app.add_flag("--resume", *resume, "Continue the run in out_dir from its last checkpoint");
  return [flags, resume]() {
    Config config = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
    }
    TrainResult r = train(config, *resume);
    if (r.status != "ok")
      throw UserError("training " + r.status + " (see " + config.get_string("out_dir") +
                      "/summary.json; the last checkpoint is kept)");
    std::fprintf(stderr, "train: %ld steps, final loss %.4f, valid loss %.4f\n", r.steps,
                 r.last_loss, r.valid_loss);
    return 0;
  };
}

}  // namespace normlab::cli
