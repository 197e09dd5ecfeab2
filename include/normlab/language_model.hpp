// normlab as a library: a decoder-only language model (docs/library.md has the contract).
// This header and its siblings in include/normlab/ are the installed API; they include nothing of
// normlab's internals, so the engine can change behind them.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace normlab::api {

// Options by config key (docs/options.md), values as on the command line: {"n_layers", "12"}.
using Options = std::map<std::string, std::string>;

// Errors: bad input (a missing or corrupt checkpoint, an unknown option, a token outside the
// vocabulary) throws std::runtime_error whose what() is normlab's one-line "WHERE: problem";
// breaking the contract (forward before plan, backward without a forward) throws
// std::logic_error.
class LanguageModel {
 public:
  // A checkpoint written by `normlab train` or `normlab init` (arch=lm).
  static LanguageModel load(const std::string& checkpoint);
  // A freshly initialised model: the defaults, overridden by `options`.
  static LanguageModel init(const Options& options, std::uint64_t seed = 1);
  // A freshly initialised model as `normlab init --config FILE --key VALUE` makes it: the
  // defaults, then `config_file` (JSON or YAML; none if empty), then `options`, initialised from
  // the config's `seed` option.
  static LanguageModel from_config(const Options& options, const std::string& config_file = "");
  LanguageModel(LanguageModel&&) noexcept;
  LanguageModel& operator=(LanguageModel&&) noexcept;
  ~LanguageModel();

  int vocab_size() const;
  int max_seq_len() const;  // seq_len: positions beyond it do not exist
  // The effective config as JSON (every option, typed), as stored in checkpoints.
  std::string config_json() const;

  // Plans activation and gradient memory for batches of up to `batch` x `seq_len` tokens. Must
  // precede forward(); call again for a larger batch (smaller ones reuse the plan).
  void plan(int batch, int seq_len);
  // Mean cross-entropy (nats per token) of targets[b * seq_len + t] given the inputs (row-major
  // [batch, seq_len] token ids; a target < 0 is ignored). Dropout only in training mode.
  double forward(const std::int32_t* inputs, const std::int32_t* targets, int batch, int seq_len);
  // Adds d loss / d parameter of the last forward() to every gradient (zero_grads() clears them).
  void backward();
  void zero_grads();
  void set_training(bool on);  // dropout on or off (off after load and init)

  // Parameters by checkpoint name (docs/model.md), row-major float32 owned by the model: the
  // pointers stay valid for the model's lifetime.
  std::vector<std::string> parameter_names() const;
  std::vector<std::int64_t> parameter_shape(const std::string& name) const;
  float* parameter(const std::string& name);
  float* gradient(const std::string& name);
  std::size_t parameter_count() const;

  // Writes a checkpoint (atomically: temporary file, then rename).
  void save(const std::string& path) const;

  struct Impl;  // normlab's model, behind the API

 private:
  explicit LanguageModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class AdamW;
};

}  // namespace normlab::api
