// Model checkpoints as safetensors (docs/model.md: tensor names and metadata).
#pragma once
#include <memory>
#include <string>

#include "model/decoder_lm.hpp"

namespace normlab {

struct CheckpointInfo {
  std::string tokenizer_identity;
  long step = 0;
};

// Atomic: written to a temporary file and renamed.
void save_model(const std::string& path, DecoderLM& model, const CheckpointInfo& info);
// Reads the config from the metadata, builds the model and loads every tensor, checking names
// and shapes. Throws UserError("PATH: ...") for any problem.
std::unique_ptr<DecoderLM> load_model(const std::string& path, CheckpointInfo* info);
// The effective config stored in a checkpoint.
Config read_model_config(const std::string& path);
// Throws UserError("PATH: config mismatch: ...") if `config` differs from `stored` on a key that
// shapes or wires the model.
void check_same_model(const Config& stored, const Config& config, const std::string& path);

}  // namespace normlab
