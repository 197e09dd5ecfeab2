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
#include "diag/block_updates.hpp"
#include "diag/monitor.hpp"
#include "diag/stack_measure.hpp"
#include "diag/unigram_loss.hpp"
#include "kernels/hidden_stats.hpp"
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

// The trial's schedule: the config's, over `steps` steps, with the warmup compressed by
// steps / config steps (the run's length), at least one step. An inverse-sqrt trial then ends at
// the run's final learning rate, lr sqrt(warmup / run steps); a cosine one covers the whole decay.
Schedule trial_schedule(const Config& config, int steps) {
  Schedule s = Schedule::from_config(config, steps);
  if (s.warmup > 0)
    s.warmup = std::max(1L, std::lround(static_cast<double>(s.warmup) * steps /
                                        static_cast<double>(config.get_int("steps"))));
  return s;
}

// The coordinate-check row of the step just taken: the activations of its forward (recorded with
// the probes on), the update and the gradient it applied.
CoordStep coord_step(const DecoderLM& model, int step, const std::vector<double>& ratios,
                     const std::vector<double>& grads) {
  const int B = model.batch(), T = model.seq(), d = model.shape().d;
  const int per_block = model.stack().sublayers_per_block();
  CoordStep c;
  c.step = step;
  c.top_rms = hidden_stats(model.stack_output(), B, T, d).rms;
  for (size_t l = 0; l < ratios.size(); ++l) {
    CoordBlock b;
    const Sublayer* first = &model.sublayers()[l * per_block];
    b.input_rms = hidden_stats(first->x_in, B, T, d).rms;
    for (int k = 0; k < per_block; ++k) b.sublayer_out_rms.push_back(first[k].f_out_stats.rms);
    b.update_ratio = ratios[l], b.grad_rms = grads[l];
    c.blocks.push_back(b);
  }
  return c;
}

// `steps` training steps of the task's model as `normlab train` would take them (the config's
// optimizer, clipping, gradient accumulation, stability monitor; the schedule of trial_schedule),
// recording the evidence and the coordinate check. A non-finite loss (or one above
// diverge_loss) stops the run before its update, as it stops `normlab train`.
void train_briefly(TrainingTask& task, DecoderLM& model, const Config& config, int steps,
                   DepthResult& r) {
  AdamW optimizer(task.model(), AdamWSettings::from_config(config));
  const Schedule schedule = trial_schedule(config, steps);
  TrainingStep step(task, optimizer, schedule, config.get_int("grad_accum"),
                    static_cast<uint64_t>(config.get_int("seed")));
  StabilityMonitor monitor(StabilitySettings::from_config(config));
  BlockUpdates updates(model.params());
  TrialEvidence& e = r.evidence;
  e.adam_eps = optimizer.groups().back().eps;  // the blocks' (CompleteP scales it with depth)
  // The update evidence is averaged over the last fifth of the trial, when the warmup is over;
  // the loss over its last tenth (each batch is new to the model when its loss is taken).
  const int tail_from = steps - std::max(1, steps / 5) + 1;
  const int loss_from = steps - std::max(1, steps / 10) + 1;
  int tail = 0, loss_tail = 0;
  double loss_sum = 0, base_sum = 0;
  const long accum = config.get_int("grad_accum");
  task.model().training = true;
  for (int s = 1; s <= steps; ++s) {
    const bool coord =
        std::find(kCoordCheckSteps.begin(), kCoordCheckSteps.end(), s) != kCoordCheckSteps.end();
    // The update sizes are needed at the coordinate-check steps and in the tail only: copying
    // the weights every step would cost a few percent of the trial.
    const bool measure = coord || s >= tail_from;
    if (measure) updates.snapshot(model.params());
    StepVerdict verdict = StepVerdict::Apply;
    const StepResult result = step.run(s, coord, [&](const StepResult& t) {
      verdict = monitor.observe(s, t.loss, t.grad_norm);
      return verdict == StepVerdict::Apply;
    });
    if (s == 1) r.first_loss = result.loss;
    r.last_loss = result.loss;
    r.trial_loss.push_back(result.loss);
    double base = 0;  // the unigram model's loss on this step's micro-batches
    for (long k = 0; k < accum; ++k)
      base += task.unigram_batch_loss(static_cast<uint64_t>((s - 1) * accum + k)) / accum;
    r.trial_unigram_loss.push_back(base);
    e.steps = s;
    if (s >= loss_from) loss_sum += result.loss, base_sum += base, ++loss_tail;
    if (verdict == StepVerdict::Diverged) {
      e.non_finite = !std::isfinite(result.loss) || !std::isfinite(result.grad_norm);
      e.stop_reason = monitor.reason();
      break;
    }
    if (!measure) continue;
    const std::vector<double> ratios = updates.update_ratios(model.params());
    const std::vector<double> grads = updates.grad_rms(model.params());
    if (coord) r.coord.push_back(coord_step(model, s, ratios, grads));
    if (s >= tail_from && !ratios.empty()) {
      e.update_bottom += ratios.front(), e.update_top += ratios.back();
      e.grad_rms_bottom += grads.front(), e.grad_rms_top += grads.back();
      ++tail;
    }
  }
  if (tail > 0) {
    e.update_bottom /= tail, e.update_top /= tail;
    e.grad_rms_bottom /= tail, e.grad_rms_top /= tail;
  }
  e.first_loss = r.first_loss;
  e.end_loss = loss_tail > 0 ? loss_sum / loss_tail : r.last_loss;
  e.end_unigram_loss = loss_tail > 0 ? base_sum / loss_tail : std::nan("");
  e.spikes = monitor.spikes();
}

// The evidence that the trained measurement adds, and the prediction.
void predict(DepthResult& r, double unigram) {
  TrialEvidence& e = r.evidence;
  e.unigram_loss = unigram;
  e.grad_bottom_over_top = r.trained.backward;
  e.forward_growth = r.trained.forward;
  if (!r.coord.empty())
    for (const CoordBlock& b : r.coord.back().blocks)
      for (double v : b.sublayer_out_rms) e.max_sublayer_rms = std::max(e.max_sublayer_rms, v);
  if (!std::isfinite(r.trained.forward) || !std::isfinite(r.trained.loss)) e.non_finite = true;
  r.prediction = predict_outcome(e);
}

// One depth: the initialisation measured over options.init_seeds seeds, then (with train_steps)
// a short run from the first seed's initialisation and the trained measurement.
DepthResult check_depth(const Config& config, int depth, const SanityOptions& options,
                        const std::vector<int32_t>& tokens, const std::string& data_label,
                        const MeasureBatches& batches, double unigram, std::string* init_scheme) {
  const auto t0 = std::chrono::steady_clock::now();
  Config c = config;
  c.set("n_layers", std::to_string(depth), "option 'depths'");
  c.set("batch_size", std::to_string(options.batch_size), "option 'sanity_batch_size'");
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
    profile_shortcut_weights(*task);  // Admin's initialisation ends with its profiling pass
    init.add(model, batches);
  }
  r.init = init.mean();
  if (options.train_steps > 0) {
    model.initialize(seed);
    profile_shortcut_weights(*task);
    train_briefly(*task, model, c, options.train_steps, r);
    StackMeasureMean trained;
    trained.add(model, batches);
    r.trained = trained.mean();
    predict(r, unigram);
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
  o.batch_size = static_cast<int>(config.get_int("sanity_batch_size"));
  o.init_seeds = static_cast<int>(config.get_int("sanity_seeds"));
  o.batches = static_cast<int>(config.get_int("sanity_batches"));
  return o;
}

const std::vector<SanityDefault>& sanity_check_defaults() {
  // batch_size is the predicted run's; the trial and the measurements use sanity_batch_size.
  static const std::vector<SanityDefault> defaults = {
      {"d_model", "64"},           {"n_heads", "4"},    {"d_ff", "256"},
      {"seq_len", "32"},           {"batch_size", "8"}, {"vocab_size", "256"},
      {"depths", "2,4,8,16,32,64"}};
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
      tokens, options.batch_size, static_cast<int>(config.get_int("seq_len")),
      static_cast<uint64_t>(config.get_int("seed")), data_label, options.batches);

  SanityReport report;
  report.unigram_loss = unigram_loss(tokens);
  report.trial_warmup = static_cast<int>(trial_schedule(config, options.train_steps).warmup);
  report.config = config.to_json();
  report.options = options;
  report.data = data_label;
  for (int L : options.depths) {
    std::string init_scheme;
    report.depths.push_back(check_depth(config, L, options, tokens, data_label, batches,
                                        report.unigram_loss, &init_scheme));
    if (report.init_scheme.empty()) report.init_scheme = init_scheme;
    if (progress) progress(depth_line(report.depths.back(), options.train_steps));
  }
  fit_depth_laws(report);
  return report;
}

}  // namespace normlab
