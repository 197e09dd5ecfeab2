// What `normlab train` says before its first step, so that a run's log shows what was trained:
// the model and its parameter count, the placement with every block's resolved description (the
// letters of model/block_ops.cpp, dt, alpha, init), precision, threads, data, steps and run
// directory. And the settings that are valid but almost certainly not meant (warnings).
#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"
#include "kernels/precision.hpp"
#include "model/model.hpp"

namespace normlab {

// The banner's lines: a title line, then one "  label  value" line per field.
// `threads` are this process's; `ranks` the data-parallel processes (train/distributed.hpp);
// `epoch` the task's epoch_summary (no line when empty).
std::vector<std::string> run_banner(const Config& config, const Model& model,
                                    const PrecisionChoice& precision, int threads, int ranks,
                                    long start_step, const std::string& epoch = "");

// One line per suspicious setting (without the "normlab: warning: " prefix), e.g. a warmup that
// never ends.
std::vector<std::string> run_warnings(const Config& config);

}  // namespace normlab
