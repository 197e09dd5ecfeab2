// Statistics of a hidden state, the forward quantities the stability probes report
// (docs/diagnostics.md). A kernel rather than a probe because a stack computes them in its forward
// for buffers it does not keep until the probes run (a sublayer's output F(u)).
#pragma once

namespace normlab {

struct HiddenStats {
  double rms = 0, mean_abs = 0, var = 0, batch_var = 0;
};

// Statistics of h [B, T, d]: rms, mean |h|, entry-wise variance, and the across-batch variance
// (per position and feature, the variance over the B sequences, averaged; Kan et al. 2025).
HiddenStats hidden_stats(const float* h, int B, int T, int d);

}  // namespace normlab
