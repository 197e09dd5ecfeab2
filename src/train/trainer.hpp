// The training loop: batches from a prepared corpus, forward/backward with gradient
// accumulation, AdamW with clipping and a schedule, validation, metrics (JSON lines),
// checkpoints (atomic) and exact resume. It sees the model only through DecoderLM's
// forward/backward/params.
#pragma once
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.hpp"
#include "train/distributed.hpp"
#include "train/run_directory.hpp"

namespace normlab {

struct TrainResult {
  std::string status = "ok";  // or "diverged at step S: why", "interrupted at step S"
  long steps = 0, skipped = 0, spikes = 0;
  int signal = 0;  // SIGINT or SIGTERM when interrupted
  double last_loss = 0, valid_loss = NAN;
};

// Files in out_dir: config.yaml (effective config), metrics.jsonl, diagnostics.jsonl,
// checkpoint.safetensors and checkpoint.optim.safetensors (committed together: saved_state.hpp),
// tokenizer.model, summary.json. `start` says how out_dir may be used (run_directory.hpp); with
// Resume, continues from the newest saved state (`config` may differ from the run's only where
// check_continuation allows) and appends to metrics.jsonl. Every input is validated before the
// first file is written.
// Divergence and interrupts are results, not exceptions: the run stops, summary.json says
// "diverged at step S" (the last checkpoint written before it is kept) or "interrupted at step
// S" (the state of step S is saved first).
// `on_metrics`, if set, is called on the training thread after every optimizer step with
// {"step", "loss", "lr", "grad_norm"} (plus "skipped" or "spike": true) and after every
// validation with {"step", "valid_loss", "valid_ppl"}: metrics.jsonl's vocabulary, every step
// whatever log_every says. An exception it throws ends the run and propagates.
using MetricsCallback = std::function<void(const nlohmann::json&)>;
// `ranks` train the run together, data-parallel (docs/distributed.md); its root writes the run
// directory. A sweep under MPI gives each cell a group of the ranks (Ranks::split).
TrainResult train(Config config, RunStart start, const MetricsCallback& on_metrics = {},
                  const Ranks& ranks = Ranks::world());

}  // namespace normlab
