// A training run's directory (out_dir) and how `train` may use it: a new run needs a missing or
// empty directory, --overwrite replaces a run, --resume continues one with the configuration it
// was started with (docs/reliability.md, "Runs and resume"). Every check here writes nothing, so
// that a refused command leaves the directory as it was.
#pragma once
#include <filesystem>
#include <functional>

#include "core/config.hpp"
#include "core/options.hpp"

namespace normlab {

enum class RunStart { New, Overwrite, Resume };

// Throws UserError("OUT: ...") if `out` cannot be used as `start` says: New needs a missing or
// empty directory (an existing run is an error naming --resume and --overwrite); Overwrite a
// missing or empty directory or one holding only a run's files; Resume a run (OUT/config.yaml).
void check_run_directory(const std::filesystem::path& out, RunStart start);

// The effective config a run was started (or last resumed) with: OUT/config.yaml.
Config read_run_config(const std::filesystem::path& out);

// The first option (in vocabulary order) on which `a` and `b` differ, leaving out the `ignored`
// ones; nullptr if none.
const OptionSpec* first_difference(const Config& a, const Config& b,
                                   const std::function<bool(const OptionSpec&)>& ignored);

// Throws UserError("option 'KEY': ...") for the first key on which `config` differs from the
// run's own config `run` and that a continuation must keep (the model, the data and its
// batching, the seed, the loss, AdamW's betas, eps and decay, the stability monitor). What may
// differ: the schedule and clipping (steps, lr, min_lr, schedule, warmup, clip_norm), threads,
// precision, logging, evaluation, save and diagnostics cadence, keep_last, progress, and where
// the corpus and the run are (data, out_dir: the checkpoint's tokenizer still has to be the
// corpus's). vocab_size is the tokenizer's.
void check_continuation(const Config& run, const Config& config, const std::filesystem::path& out);

// Removes the files a run writes (for --overwrite), config.yaml last so that a killed overwrite
// still leaves a run; other files are left alone.
void clear_run_directory(const std::filesystem::path& out);

}  // namespace normlab
