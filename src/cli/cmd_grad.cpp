// `normlab grad`: the checking interface (docs/model.md). Loss and every parameter's gradient on a
// batch given as text, optionally after N AdamW steps on that batch (train/gradient_check.hpp).
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "train/gradient_check.hpp"

namespace normlab::cli {

Runner setup_grad(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto request = std::make_shared<GradientCheckRequest>();
  // The model and its config come from the checkpoint; the command line gives the loss's label
  // smoothing and the AdamW steps' optimizer (a constant lr, clipping).
  add_config_flags(app, *flags, {"grad"},
                   {"label_smoothing", "lr", "beta1", "beta2", "adam_eps", "weight_decay",
                    "decay_all", "clip_norm"});
  app.add_option(flag_names("model", "m"), request->model_path,
                 "Model (.safetensors, or a run directory)")
      ->required();
  app.add_option(flag_names("tokens"), request->tokens_path,
                 "Token rows: one sequence of T+1 ids per line")
      ->required();
  app.add_option(flag_names("out", "o"), request->out_path, "Gradients (.safetensors)")->required();
  app.add_option(flag_names("diag"), request->diag_path,
                 "Also write the per-layer probes of the final forward/backward as JSON "
                 "(docs/diagnostics.md: 'blocks' and 'output')");
  return [=]() {
    const Config run = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(run.dump_yaml().c_str(), stdout);
      return 0;
    }
    GradientCheckRequest r = *request;
    r.adamw_steps = static_cast<int>(run.get_int("adamw_steps"));
    std::printf("loss %s\n", format_loss(run_gradient_check(run, r)).c_str());
    return 0;
  };
}

}  // namespace normlab::cli
