// What a training run will allocate, measured before anything is: the model is built and planned
// under a MemoryCount (model/memory_plan.hpp), so the figures are the ParamStore's and the
// MemoryPlan's own, not a formula that could drift from them.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/config.hpp"

namespace normlab {

struct TrainingMemory {
  uint64_t parameters = 0;   // bytes: values, gradients and AdamW's two moments
  uint64_t activations = 0;  // bytes: the activation arena for the largest batch
  uint64_t data = 0;         // bytes: the token files, read into memory
  uint64_t total() const { return parameters + activations + data; }
};

// The memory of training `config` on the corpus in `data`. The largest batch is batch_size x
// seq_len rows for arch=lm and at most max(batch_tokens, seq_len) source and target cells for
// arch=encdec (data/parallel_batches.hpp). UserError naming batch_size if a batch would exceed
// 2^31 tokens.
TrainingMemory estimate_training_memory(const Config& config, const std::filesystem::path& data);

// Throws UserError("train: needs X (...), Y available; ...") when the run does not fit in the
// memory this process may still take (core/memory.hpp).
void check_training_memory(const Config& config, const std::filesystem::path& data);

}  // namespace normlab
