// The driver of the depth sanity check (docs/sanity-check.md): builds one design at several
// depths, measures each at initialisation (diag/stack_measure.hpp), trains it briefly with the
// trainer's own step (training_step.hpp) and measures it again; the fits and verdicts are
// diag/sanity_report.hpp's.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "diag/sanity_report.hpp"

namespace normlab {

// The check's settings in `config`: depths (comma-separated, each >= 1), sanity_steps,
// sanity_seeds and sanity_batches. Throws UserError for an empty or malformed depth list.
SanityOptions sanity_options(const Config& config);

// The check's own defaults, below config files and flags (`normlab sanity-check` and the Python
// module): a small width for an interactive check, and the depths to build.
struct SanityDefault {
  const char* key;
  const char* value;
};
const std::vector<SanityDefault>& sanity_check_defaults();

// What the check trains on: `config`'s corpus (`data`: its train.bin, and vocab_size becomes the
// corpus's), or without one a fixed random bigram chain over vocab_size ids, the same for every
// design (data/markov_chain.hpp).
struct SanityData {
  std::vector<int32_t> tokens;
  std::string label;  // the report's `data`: DIR/train.bin or markov(V)
};
SanityData sanity_check_data(Config& config);

// Runs the check for `config` (n_layers is replaced by each depth; everything else, optimizer
// and schedule included, is the config's) on windows of `tokens` (ids < vocab_size), labelled
// `data_label` in the report. `progress` receives one line per depth. Throws UserError for an
// empty depth list or a depth below 1.
SanityReport run_sanity_check(const Config& config, const SanityOptions& options,
                              const std::vector<int32_t>& tokens, const std::string& data_label,
                              const std::function<void(const std::string&)>& progress = {});

}  // namespace normlab
