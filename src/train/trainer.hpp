// The training loop: batches from a prepared corpus, forward/backward with gradient
// accumulation, AdamW with clipping and a schedule, validation, metrics (JSON lines),
// checkpoints (atomic) and exact resume. It sees the model only through DecoderLM's
// forward/backward/params.
#pragma once
#include <cmath>
#include <string>

#include "core/config.hpp"

namespace normlab {

struct TrainResult {
  std::string status = "ok";  // or "diverged at step S: why"
  long steps = 0, skipped = 0, spikes = 0;
  double last_loss = 0, valid_loss = NAN;
};

// Files in out_dir: config.yaml (effective config), metrics.jsonl, checkpoint.safetensors,
// checkpoint.optim.safetensors, tokenizer.model. With resume, continues from the checkpoint in
// out_dir (the model part of the config must match) and appends to metrics.jsonl.
// Divergence is a result, not an exception: the run stops, summary.json says
// "diverged at step S", and the last checkpoint written before it is kept.
TrainResult train(Config config, bool resume);

}  // namespace normlab
