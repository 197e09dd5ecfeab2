// Model checkpoints as safetensors (docs/model.md: tensor names and metadata).
#pragma once
#include <memory>
#include <string>

#include "data/tokenizer.hpp"
#include "model/model.hpp"

namespace normlab {

struct CheckpointInfo {
  std::string tokenizer_identity;
  long step = 0;
  // The matmul precision the run trained with, "fp32" or "bf16" (normlab.matmul_precision): what
  // `precision auto` resolved to on the machine that trained it. Empty when nothing trained the
  // model (`init`) or the checkpoint predates the record.
  std::string matmul_precision;
};

// A checkpoint as users name it: a .safetensors file, or a run directory (`out_dir` of train or a
// sweep cell), which stands for its checkpoint.safetensors. Throws UserError("DIR: ...") for a
// directory without one. Every reader below accepts either.
std::string checkpoint_file(const std::string& path);
// Atomic: written to a temporary file and renamed.
void save_model(const std::string& path, Model& model, const CheckpointInfo& info);
// Reads the config from the metadata, builds the model and loads every tensor, checking names
// and shapes. Throws UserError("PATH: ...") for any problem.
std::unique_ptr<Model> load_model(const std::string& path, CheckpointInfo* info);
// load_model for commands that need one kind of model: UserError("PATH: ...") naming the
// checkpoint's arch otherwise.
template <class M>
std::unique_ptr<M> load_model_as(const std::string& given, CheckpointInfo* info, const char* need) {
  const std::string path = checkpoint_file(given);
  std::unique_ptr<Model> m = load_model(path, info);
  if (auto* typed = dynamic_cast<M*>(m.get())) {
    m.release();
    return std::unique_ptr<M>(typed);
  }
  throw UserError(path + ": this command needs " + need +
                  ", the checkpoint holds arch=" + m->config().get_string("arch"));
}
// The tokenizer of a checkpoint: `tokenizer_path`, or tokenizer.model beside the checkpoint (in
// the run directory).
// Throws UserError naming the tokenizer on a vocabulary mismatch with the checkpoint.
Tokenizer checkpoint_tokenizer(const std::string& model_path, const std::string& tokenizer_path,
                               const CheckpointInfo& info, int vocab);
// The effective config stored in a checkpoint, and in *info (when given) what load_model would put
// there, from its header alone (the tensors are neither read nor checked: load_model does that).
Config read_model_config(const std::string& path, CheckpointInfo* info = nullptr);
// Throws UserError("PATH: config mismatch: ...") if `config` differs from `stored` on a key that
// shapes or wires the model.
void check_same_model(const Config& stored, const Config& config, const std::string& path);

}  // namespace normlab
