// What the trainer trains: a model together with its data. A task knows its batches (language
// modelling rows, or token-count batches of sentence pairs) and how to feed them to its model;
// the trainer (trainer.cpp) only sees losses, token counts and the Model interface, so it does
// not know whether the model is decoder-only or encoder–decoder.
#pragma once
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "data/tokenizer.hpp"
#include "model/model.hpp"

namespace normlab {

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual Model& model() = 0;
  // Forward and backward of training micro-batch `index` (a pure function of the run's seed and
  // index, so that a resumed run sees the same batches). Returns the loss; *tokens receives the
  // number of target tokens it counted.
  virtual double train_batch(uint64_t index, long* tokens) = 0;
  // Loss of training batch `index`, forward only.
  virtual double batch_loss(uint64_t index) = 0;
  // The validation loss over up to `max_batches` validation batches (eval mode) is sum / weight
  // over all parts; this call adds up batches i = part, part + parts, ... (the share of one of
  // `parts` ranks; the trainer sums the shares over the ranks). weight is 0 when there is
  // nothing to evaluate (then the loss is NaN).
  struct LossSum {
    double sum = 0, weight = 0;
  };
  virtual LossSum evaluate_share(long max_batches, long part, long parts) = 0;
  // The loss a model reaches that has learned the training tokens' frequencies and nothing of
  // the context (diag/unigram_loss.hpp): where a run that stalls sits. NaN where it is not
  // defined by one token stream (the encoder–decoder).
  virtual double unigram_loss() const { return std::nan(""); }
  // The unigram model's loss on the targets of training micro-batch `index`
  // (unigram_surprisal): where a model that sits on the unigram plateau scores on that batch.
  // NaN where unigram_loss is not defined.
  virtual double unigram_batch_loss(uint64_t /*index*/) { return std::nan(""); }
  // One line on what an epoch of training batches is, for the run's banner ("" if nothing to
  // say): the token-count batches' number and padding.
  virtual std::string epoch_summary() const { return ""; }
};

// Throws UserError("DIR: ...") unless `data` is a corpus directory that 'prepare' or
// 'prepare-parallel' finished: they write meta.json last, so without it the directory is not one,
// or a build that was cut short.
void check_corpus_dir(const std::filesystem::path& data);

// The task of `config`'s arch over the prepared corpus in `data` (`prepare` for arch=lm,
// `prepare-parallel` for arch=encdec), training `model`. Checks the token files against
// `tokenizer`; plans the model's memory for the largest batch.
std::unique_ptr<TrainingTask> make_training_task(const Config& config,
                                                 const std::filesystem::path& data,
                                                 const Tokenizer& tokenizer,
                                                 std::unique_ptr<Model> model);

// Admin's profiling pass (model/shortcut_profile.cpp) on training batch 0, the first
// micro-batch of step 1, if the model has a 'w' residual and is not profiled yet. Returns whether
// it ran.
bool profile_shortcut_weights(TrainingTask& task);

// Token streams of a language-modelling task. The validation stream may be absent (empty label):
// the task then has no validation loss (weight 0: NaN).
struct LanguageModelData {
  std::vector<int32_t> train, valid;
  std::string train_label, valid_label;  // names in errors ("DIR/train.bin", "markov(256)")
};

// Language modelling on `data` (in memory), training `model` (a DecoderLM).
std::unique_ptr<TrainingTask> make_language_model_task(const Config& config, LanguageModelData data,
                                                       std::unique_ptr<Model> model);

// The label smoothing of `config` (option label_smoothing: 'auto' is 0.1 for arch=encdec, as
// fairseq's translation recipes, and 0 for the language model).
float label_smoothing(const Config& config);

}  // namespace normlab
