// Per-layer probes (docs/diagnostics.md): forward statistics of the hidden states, the input
// scale of every normalization, attention entropy, and the gradient norms the backward pass
// recorded. They read buffers the model already holds; nothing here runs unless asked.
#pragma once
#include <nlohmann/json.hpp>

#include "kernels/hidden_stats.hpp"
#include "model/model.hpp"

namespace normlab {

// Mean over rows of the row's standard deviation (LayerNorm, DyT) or RMS (RMSNorm).
double mean_row_scale(const float* x, int rows, int d, bool rms);
// Mean over the rows of `entropy` (the attention kernel's per-row entropies, in nats).
double mean_entropy(const float* entropy, size_t rows);

// Probe of one stack's last forward (and backward, if probes were recorded): "blocks" and
// "output".
nlohmann::json probe_stack(const TransformerStack& stack);
// Probe of the last forward (and, if model.record_grad_norms was on, backward): the LM's (or the
// decoder's) "blocks" and "output"; an encoder–decoder adds "encoder": {"blocks", "output"}.
nlohmann::json probe_model(const Model& model);

}  // namespace normlab
