#include "train/task.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "data/batches.hpp"
#include "data/parallel_batches.hpp"
#include "data/token_file.hpp"
#include "diag/unigram_loss.hpp"
#include "model/decoder_lm.hpp"
#include "model/encoder_decoder.hpp"

namespace normlab {

namespace fs = std::filesystem;

float label_smoothing(const Config& config) {
  const std::string& v = config.get_string("label_smoothing");
  if (v == "auto") return config.get_string("arch") == "encdec" ? 0.1f : 0.0f;
  char* end = nullptr;
  const double eps = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(eps >= 0 && eps < 1))
    throw UserError("option 'label_smoothing': expected 'auto' or a number in [0, 1), got '" + v +
                    "'");
  return static_cast<float>(eps);
}

namespace {

TokenFile read_checked(const fs::path& path, const Tokenizer& tokenizer) {
  TokenFile file = read_token_file(path.string());
  if (file.tokenizer_identity != tokenizer.identity())
    throw UserError(path.string() + ": vocabulary mismatch: token file was made by tokenizer " +
                    file.tokenizer_identity + ", the corpus tokenizer is " + tokenizer.identity());
  if (file.vocab_size != static_cast<uint32_t>(tokenizer.vocab_size()))
    throw UserError(path.string() + ": vocabulary mismatch: the header says " +
                    std::to_string(file.vocab_size) + " ids, the corpus tokenizer has " +
                    std::to_string(tokenizer.vocab_size()));
  return file;
}

// Language modelling: rows of T + 1 consecutive tokens of a token stream (data/batches.hpp).
// Without a validation stream, evaluate_share() has weight 0 (the validation loss is NaN).
class LanguageModelTask : public TrainingTask {
 public:
  LanguageModelTask(const Config& config, LanguageModelData data, std::unique_ptr<DecoderLM> model)
      : model_(std::move(model)),
        data_(std::move(data)),
        B_(static_cast<int>(config.get_int("batch_size"))),
        T_(static_cast<int>(config.get_int("seq_len"))),
        seed_(static_cast<uint64_t>(config.get_int("seed"))),
        smoothing_(label_smoothing(config)),
        train_batches_(data_.train, B_, T_, seed_, data_.train_label.c_str()),
        x_(static_cast<size_t>(B_) * T_),
        y_(static_cast<size_t>(B_) * T_) {
    if (!data_.valid_label.empty())
      valid_batches_.emplace(data_.valid, B_, T_, seed_, data_.valid_label.c_str());
    model_->plan(B_, T_);
  }
  Model& model() override { return *model_; }
  double train_batch(uint64_t index, long* tokens) override {
    train_batches_.sample(index, x_.data(), y_.data());
    const double loss = model_->forward(x_.data(), y_.data(), B_, T_, smoothing_);
    model_->backward();
    *tokens = static_cast<long>(B_) * T_;
    return loss;
  }
  double batch_loss(uint64_t index) override {
    train_batches_.sample(index, x_.data(), y_.data());
    return model_->forward(x_.data(), y_.data(), B_, T_, smoothing_);
  }
  // The mean of the batches' mean losses (every batch has B x T targets).
  LossSum evaluate_share(long max_batches, long part, long parts) override {
    LossSum r;
    if (!valid_batches_) return r;
    model_->training = false;
    model_->grad_enabled = false;
    const long n =
        std::min<long>(max_batches, static_cast<long>(valid_batches_->num_eval_batches()));
    for (long i = part; i < n; i += parts) {
      valid_batches_->eval_batch(static_cast<uint64_t>(i), x_.data(), y_.data());
      r.sum += model_->forward(x_.data(), y_.data(), B_, T_);
      r.weight += 1;
    }
    model_->training = true;
    model_->grad_enabled = true;
    return r;
  }
  double unigram_loss() const override { return normlab::unigram_loss(data_.train); }
  double unigram_batch_loss(uint64_t index) override {
    if (surprisal_.empty()) surprisal_ = unigram_surprisal(data_.train);
    // Own buffers: the model may still read x_ and y_ (they hold the batch it last ran).
    ux_.resize(x_.size()), uy_.resize(y_.size());
    train_batches_.sample(index, ux_.data(), uy_.data());
    double sum = 0;
    for (int32_t t : uy_) sum += surprisal_[static_cast<size_t>(t)];
    return sum / static_cast<double>(uy_.size());
  }

 private:
  std::unique_ptr<DecoderLM> model_;
  const LanguageModelData data_;  // the samplers below hold references into it
  int B_, T_;
  uint64_t seed_;
  float smoothing_;
  BatchSampler train_batches_;
  std::optional<BatchSampler> valid_batches_;
  std::vector<int32_t> x_, y_;
  std::vector<double> surprisal_;  // unigram_batch_loss's, computed on first use
  std::vector<int32_t> ux_, uy_;
};

// Translation / summarization: sentence pairs in token-count batches (data/parallel_batches.hpp).
// Validation reports the token-weighted mean cross-entropy without smoothing.
class TranslationTask : public TrainingTask {
 public:
  TranslationTask(const Config& config, const fs::path& data, const std::string& identity,
                  std::unique_ptr<Model> model, int32_t eos)
      : model_(static_cast<EncoderDecoder*>(model.release())),
        smoothing_(label_smoothing(config)),
        train_data_(load_parallel_data((data / "train.src.bin").string(),
                                       (data / "train.tgt.bin").string(), model_->shape().vocab,
                                       eos, identity)),
        valid_data_(load_parallel_data((data / "valid.src.bin").string(),
                                       (data / "valid.tgt.bin").string(), model_->shape().vocab,
                                       eos, identity)),
        train_(train_data_, options(config, eos)),
        valid_(valid_data_, options(config, eos)) {
    const ParallelBatchStats& a = train_.stats();
    const ParallelBatchStats& b = valid_.stats();
    model_->plan(std::max(a.max_B, b.max_B), std::max(a.max_S, b.max_S), std::max(a.max_T, b.max_T),
                 std::max(a.max_src_cells, b.max_src_cells),
                 std::max(a.max_tgt_cells, b.max_tgt_cells));
  }
  Model& model() override { return *model_; }
  std::string epoch_summary() const override {
    const ParallelBatchStats& s = train_.stats();
    char buf[200];
    std::snprintf(
        buf, sizeof buf,
        "%llu batches of %zu pairs (mean %.0f, up to %d), padding %.1f%% of source and "
        "%.1f%% of target cells",
        static_cast<unsigned long long>(s.batches), s.kept,
        static_cast<double>(s.kept) / static_cast<double>(s.batches), s.max_B,
        100.0 * (1.0 - static_cast<double>(s.src_tokens) / static_cast<double>(s.src_cells)),
        100.0 * (1.0 - static_cast<double>(s.tgt_tokens) / static_cast<double>(s.tgt_cells)));
    return buf;
  }
  double train_batch(uint64_t index, long* tokens) override {
    train_.train_batch(index, batch_);
    const double loss = forward(smoothing_);
    model_->backward();
    *tokens = batch_.n_tokens;
    return loss;
  }
  double batch_loss(uint64_t index) override {
    train_.train_batch(index, batch_);
    return forward(smoothing_);
  }
  // Token-weighted: each batch's mean loss times its target tokens.
  LossSum evaluate_share(long max_batches, long part, long parts) override {
    LossSum r;
    model_->training = false;
    model_->grad_enabled = false;
    const long n = std::min<long>(max_batches, static_cast<long>(valid_.num_eval_batches()));
    for (long i = part; i < n; i += parts) {
      valid_.eval_batch(static_cast<uint64_t>(i), batch_);
      r.sum += forward(0.0f) * static_cast<double>(batch_.n_tokens);
      r.weight += static_cast<double>(batch_.n_tokens);
    }
    model_->training = true;
    model_->grad_enabled = true;
    return r;
  }

 private:
  static ParallelBatchOptions options(const Config& config, int32_t eos) {
    ParallelBatchOptions o;
    o.max_tokens = config.get_int("batch_tokens");
    o.max_src_len = o.max_tgt_len = static_cast<int>(config.get_int("seq_len"));
    o.seed = static_cast<uint64_t>(config.get_int("seed"));
    o.eos_id = eos;
    return o;
  }
  double forward(float smoothing) {
    const ParallelBatch& b = batch_;
    return model_->forward(b.src.data(), b.src_len.data(), b.B, b.S, b.tgt_in.data(),
                           b.tgt_out.data(), b.T, smoothing);
  }

  std::unique_ptr<EncoderDecoder> model_;
  float smoothing_;
  ParallelData train_data_, valid_data_;
  ParallelBatcher train_, valid_;
  ParallelBatch batch_;
};

}  // namespace

void check_corpus_dir(const fs::path& data) {
  std::error_code ec;
  if (!fs::exists(data, ec))
    throw UserError(data.string() + ": no such corpus directory (made by 'normlab prepare')");
  if (!fs::is_directory(data, ec))
    throw UserError(data.string() + ": not a directory; --data takes a prepared corpus directory");
  if (!fs::is_regular_file(data / "meta.json", ec))
    throw UserError(data.string() +
                    ": not a finished corpus: no meta.json, which 'normlab prepare' writes last");
}

bool profile_shortcut_weights(TrainingTask& task) {
  Model& model = task.model();
  if (!model.needs_shortcut_profile() || !model.shortcut_profile.empty()) return false;
  model.profile_shortcuts([&] { task.batch_loss(0); },
                          "training batch 0 (the first micro-batch of step 1), dropout off");
  return true;
}

std::unique_ptr<TrainingTask> make_training_task(const Config& config, const fs::path& data,
                                                 const Tokenizer& tokenizer,
                                                 std::unique_ptr<Model> model) {
  const std::string& identity = tokenizer.identity();
  if (config.get_string("arch") == "encdec") {
    for (const char* name : {"train.src.bin", "train.tgt.bin", "valid.src.bin", "valid.tgt.bin"})
      if (!fs::exists(data / name))
        throw UserError((data / name).string() +
                        ": missing; arch=encdec trains on a corpus made by 'normlab "
                        "prepare-parallel'");
    return std::make_unique<TranslationTask>(config, data, identity, std::move(model),
                                             tokenizer.eos_id());
  }
  if (!fs::exists(data / "train.bin") && fs::exists(data / "train.src.bin"))
    throw UserError(data.string() +
                    ": holds a parallel corpus ('prepare-parallel'); train it with --arch encdec");
  LanguageModelData streams;
  streams.train = read_checked(data / "train.bin", tokenizer).tokens;
  streams.valid = read_checked(data / "valid.bin", tokenizer).tokens;
  streams.train_label = (data / "train.bin").string();
  streams.valid_label = (data / "valid.bin").string();
  return make_language_model_task(config, std::move(streams), std::move(model));
}

std::unique_ptr<TrainingTask> make_language_model_task(const Config& config, LanguageModelData data,
                                                       std::unique_ptr<Model> model) {
  auto* lm = dynamic_cast<DecoderLM*>(model.get());
  if (!lm) throw std::logic_error("make_language_model_task: the model is not a DecoderLM");
  model.release();
  return std::make_unique<LanguageModelTask>(config, std::move(data),
                                             std::unique_ptr<DecoderLM>(lm));
}

}  // namespace normlab
