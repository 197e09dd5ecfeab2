// One file per subcommand; each registers its options on a CLI11 subcommand and returns the
// function that runs it. Options come from the shared vocabulary (core/options.hpp) through
// config_flags.hpp; command-specific paths (--model, --out, ...) are declared here.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace normlab::cli {

using Runner = std::function<int()>;

Runner setup_prepare(CLI::App& app);
Runner setup_train(CLI::App& app);
Runner setup_generate(CLI::App& app);
Runner setup_init(CLI::App& app);
Runner setup_grad(CLI::App& app);
Runner setup_options(CLI::App& app);
Runner setup_report(CLI::App& app);
Runner setup_sweep(CLI::App& app);
Runner setup_sanity_check(CLI::App& app);
Runner setup_eval(CLI::App& app);
Runner setup_prepare_parallel(CLI::App& app);
Runner setup_translate(CLI::App& app);
Runner setup_export(CLI::App& app);

}  // namespace normlab::cli
