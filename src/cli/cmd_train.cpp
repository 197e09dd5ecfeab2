#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "core/terminal.hpp"
#include "model/block_description.hpp"
#include "train/distributed.hpp"
#include "train/interrupt.hpp"
#include "train/run_directory.hpp"
#include "train/trainer.hpp"

namespace normlab::cli {

Runner setup_train(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto resume = std::make_shared<bool>(false);
  auto overwrite = std::make_shared<bool>(false);
  add_config_flags(app, *flags, {"model", "data", "run", "train", "optimizer"});
  CLI::Option* resume_flag = app.add_flag(
      "--resume", *resume,
      "Continue the run in out_dir from its newest saved state, with the run's own config "
      "(config.yaml); flags may change only steps, threads, precision, data, logging, "
      "evaluation and save cadence (docs/reliability.md)");
  app.add_flag("--overwrite", *overwrite,
               "Replace the run in out_dir (without it, an existing run is an error)")
      ->excludes(resume_flag);
  app.footer(
      "Exit status: 0 finished; 1 error or diverged (one 'normlab: error:' line; summary.json "
      "says which); 130 / 143 interrupted by SIGINT / SIGTERM after saving the current step "
      "(summary.json: 'interrupted at step S'); 2 internal error. See docs/reliability.md.");
  return [flags, resume, overwrite]() {
    Config config = resolve_config(*flags);
    if (*resume && !config.get_string("out_dir").empty()) {
      // The run's own config, then what the command line changes (checked by train()).
      const std::filesystem::path out(config.get_string("out_dir"));
      std::error_code ec;
      if (std::filesystem::exists(out / "config.yaml", ec))
        config = resolve_config(*flags, read_run_config(out));
    }
    if (flags->dump_config) {
      std::fputs(dump_config_with_layers(config).c_str(), stdout);
      return 0;
    }
    const RunStart start = *resume      ? RunStart::Resume
                           : *overwrite ? RunStart::Overwrite
                                        : RunStart::New;
    TrainResult r = train(config, start);
    const std::string out = config.get_string("out_dir");
    const bool writer = Ranks::world().is_root();  // one line per job, not per rank
    if (r.signal != 0) {
      if (writer)
        std::fprintf(stderr, "train: %s by %s; the state of step %ld is saved (%s/summary.json)\n",
                     r.status.c_str(), signal_name(r.signal), r.steps, out.c_str());
      return 128 + r.signal;
    }
    if (r.status != "ok")
      throw UserError("training " + r.status + " (see " + out +
                      "/summary.json; the last checkpoint is kept)");
    if (writer) {
      char done[128];
      std::snprintf(done, sizeof done, "train: %ld steps, final loss %.4f, valid loss %.4f",
                    r.steps, r.last_loss, r.valid_loss);
      print_line(stderr, done);
    }
    return 0;
  };
}

}  // namespace normlab::cli
