#include "train/sanity_check.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "data/batches.hpp"
#include "data/markov_chain.hpp"
#include "data/token_file.hpp"
#include "diag/stack_measure.hpp"
#include "model/decoder_lm.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"
#include "train/task.hpp"
#include "train/training_step.hpp"

namespace normlab {

namespace {

// Batches of the measurements are drawn far from the training batches' indices.
constexpr uint64_t kMeasureBatchBase = 1ull << 40;
// Synthetic stream length: far more windows than a short run draws.
constexpr size_t kSyntheticTokens = 1 << 17;
// The chain is fixed, independent of `seed`, so that every design sees the same task.
constexpr uint64_t kChainSeed = 0x5A17C4EC;

MeasureBatches measurement_batches(const std::vector<int32_t>& tokens, int B, int T, uint64_t seed,
                                   const std::string& label, int count) {
  const BatchSampler sampler(tokens, B, T, seed, label.c_str());
  MeasureBatches m;
  m.B = B, m.T = T;
  m.inputs.resize(count), m.targets.resize(count);
  for (int i = 0; i < count; ++i) {
    m.inputs[i].resize(static_cast<size_t>(B) * T), m.targets[i].resize(static_cast<size_t>(B) * T);
    sampler.sample(kMeasureBatchBase + static_cast<uint64_t>(i), m.inputs[i].data(),
                   m.targets[i].data());
  }
  return m;
}

// `steps` training steps of the task's model as `normlab train` would take them (the config's
// optimizer, clipping, gradient accumulation and schedule, here over `steps` steps). A
// non-finite loss stops the run before its update: the trained measurement then shows it.
void train_briefly(TrainingTask& task, const Config& config, int steps, DepthResult& r) {
  AdamW optimizer(task.model().params(), AdamWSettings::from_config(config));
  const Schedule schedule = Schedule::from_config(config, steps);
  TrainingStep step(task, optimizer, schedule, config.get_int("grad_accum"),
                    static_cast<uint64_t>(config.get_int("seed")));
  task.model().training = true;
  for (int s = 1; s <= steps; ++s) {
    const StepResult result =
        step.run(s, false, [](const StepResult& t) { return std::isfinite(t.loss); });
    if (s == 1) r.first_loss = result.loss;
    r.last_loss = result.loss;
    if (!result.updated) break;
  }
}

// One depth: the initialisation measured over options.init_seeds seeds, then (with train_steps)
// a short run from the first seed's initialisation and the trained measurement.
DepthResult check_depth(const Config& config, int depth, const SanityOptions& options,
                        const std::vector<int32_t>& tokens, const std::string& data_label,
                        const MeasureBatches& batches, std::string* init_scheme) {
  const auto t0 = std::chrono::steady_clock::now();
  Config c = config;
  c.set("n_layers", std::to_string(depth), "option 'depths'");
  auto owned = std::make_unique<DecoderLM>(c);
  DecoderLM& model = *owned;
  *init_scheme = model.stack().description().init;
  const uint64_t seed = static_cast<uint64_t>(c.get_int("seed"));
  // The task plans the model's memory for its batches, which the measurements share.
  const std::unique_ptr<TrainingTask> task =
      make_language_model_task(c, {tokens, {}, data_label, {}}, std::move(owned));
  DepthResult r;
  r.depth = depth;
  StackMeasureMean init;
  for (int s = 0; s < options.init_seeds; ++s) {
    model.initialize(seed + static_cast<uint64_t>(s));
    init.add(model, batches);
  }
  r.init = init.mean();
  if (options.train_steps > 0) {
    model.initialize(seed);
    train_briefly(*task, c, options.train_steps, r);
    StackMeasureMean trained;
    trained.add(model, batches);
    r.trained = trained.mean();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

SanityOptions sanity_options(const Config& config) {
  SanityOptions o;
  o.depths.clear();
  const std::string& text = config.get_string("depths");
  for (size_t start = 0; start <= text.size();) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    int depth = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), depth);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || depth < 1)
      throw UserError("option 'depths': expected depths >= 1, comma-separated, got '" + text + "'");
    o.depths.push_back(depth);
    start = comma + 1;
  }
  o.train_steps = static_cast<int>(config.get_int("sanity_steps"));
  o.init_seeds = static_cast<int>(config.get_int("sanity_seeds"));
  o.batches = static_cast<int>(config.get_int("sanity_batches"));
  return o;
}

const std::vector<SanityDefault>& sanity_check_defaults() {
  static const std::vector<SanityDefault> defaults = {
      {"d_model", "64"},   {"n_heads", "4"},      {"d_ff", "256"},  {"seq_len", "32"},
      {"batch_size", "8"}, {"vocab_size", "256"}, {"warmup", "10"}, {"depths", "2,4,8,16,32,64"}};
  return defaults;
}

SanityData sanity_check_data(Config& config) {
  const std::string dir = config.get_string("data");
  SanityData d;
  if (!dir.empty()) {
    d.label = (std::filesystem::path(dir) / "train.bin").string();
    TokenFile tf = read_token_file(d.label);
    config.set("vocab_size", std::to_string(tf.vocab_size), d.label);
    d.tokens = std::move(tf.tokens);
  } else {
    const int vocab = static_cast<int>(config.get_int("vocab_size"));
    d.label = "markov(" + std::to_string(vocab) + ")";
    d.tokens = markov_tokens(vocab, kSyntheticTokens, kChainSeed);
  }
  return d;
}

SanityReport run_sanity_check(const Config& config, const SanityOptions& options,
                              const std::vector<int32_t>& tokens, const std::string& data_label,
                              const std::function<void(const std::string&)>& progress) {
  if (options.depths.empty()) throw UserError("option 'depths': give at least one depth");
  for (int L : options.depths)
    if (L < 1) throw UserError("option 'depths': depth " + std::to_string(L) + " is below 1");
  if (options.train_steps < 0 || options.init_seeds < 1 || options.batches < 1)
    throw UserError(
        "sanity-check: sanity_steps must be >= 0, sanity_seeds and sanity_batches >= 1");
  const MeasureBatches batches = measurement_batches(
      tokens, static_cast<int>(config.get_int("batch_size")),
      static_cast<int>(config.get_int("seq_len")), static_cast<uint64_t>(config.get_int("seed")),
      data_label, options.batches);

  SanityReport report;
  report.config = config.to_json();
  report.options = options;
  report.data = data_label;
  for (int L : options.depths) {
    std::string init_scheme;
    report.depths.push_back(
        check_depth(config, L, options, tokens, data_label, batches, &init_scheme));
    if (report.init_scheme.empty()) report.init_scheme = init_scheme;
    if (progress) progress(depth_line(report.depths.back(), options.train_steps));
  }
  fit_depth_laws(report);
  return report;
}

}  // namespace normlab
