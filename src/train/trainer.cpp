#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/files.hpp"
#include "core/rng.hpp"
#include "core/threads.hpp"
#include "data/batches.hpp"
#include "data/token_file.hpp"
#include "data/tokenizer.hpp"
#include "diag/diagnostics_writer.hpp"
#include "diag/monitor.hpp"
#include "model/checkpoint.hpp"
#include "train/optimizer.hpp"
#include "train/progress.hpp"
#include "train/schedule.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

// On resume, drop the lines of steps after the checkpoint (written before an interruption): the
// resumed run writes them again, and a reader should see each step once.
void truncate_jsonl_after(const fs::path& path, long step) {
  std::ifstream in(path);
  if (!in) return;
  std::string kept, line;
  while (std::getline(in, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("step", 0L) > step) continue;
    } catch (const std::exception&) {
      continue;  // a line cut short by the interruption
    }
    kept += line + '\n';
  }
  in.close();
  write_text_atomic(path, kept);
}

double evaluate(DecoderLM& model, const BatchSampler& valid, int B, int T, long max_batches,
                std::vector<int32_t>& x, std::vector<int32_t>& y) {
  model.training = false;
  const long n = std::min<long>(max_batches, static_cast<long>(valid.num_eval_batches()));
  double sum = 0;
  for (long i = 0; i < n; ++i) {
    valid.eval_batch(static_cast<uint64_t>(i), x.data(), y.data());
    sum += model.forward(x.data(), y.data(), B, T);
  }
  model.training = true;
  return n > 0 ? sum / n : NAN;
}

}  // namespace

TrainResult train(Config config, bool resume) {
  const std::string data_dir = config.get_string("data");
  std::string out_dir = config.get_string("out_dir");
  if (data_dir.empty())
    throw UserError("option 'data': give a prepared corpus directory ('normlab prepare')");
  if (out_dir.empty()) throw UserError("option 'out_dir': give a directory for the run");
  const int threads = static_cast<int>(config.get_int("threads"));
  configure_threads(threads);

  // Data and tokenizer: the vocabulary comes from the tokenizer.
  const fs::path data(data_dir), out(out_dir);
  Tokenizer tokenizer((data / "tokenizer.model").string());
  TokenFile train_tokens = read_token_file((data / "train.bin").string());
  TokenFile valid_tokens = read_token_file((data / "valid.bin").string());
  for (const auto* tf : {&train_tokens, &valid_tokens})
    if (tf->tokenizer_identity != tokenizer.identity())
      throw UserError((data / "train.bin").string() +
                      ": vocabulary mismatch: token file was made "
                      "by tokenizer " +
                      tf->tokenizer_identity + ", " + (data / "tokenizer.model").string() + " is " +
                      tokenizer.identity());
  config.set("vocab_size", std::to_string(tokenizer.vocab_size()), "tokenizer");

  const int B = static_cast<int>(config.get_int("batch_size"));
  const int T = static_cast<int>(config.get_int("seq_len"));
  const long accum = config.get_int("grad_accum"), total_steps = config.get_int("steps");
  const uint64_t seed = static_cast<uint64_t>(config.get_int("seed"));
  if (B <= 0 || accum <= 0 || total_steps <= 0)
    throw UserError("options 'batch_size', 'grad_accum' and 'steps' must be positive");
  const std::string train_label = (data / "train.bin").string();
  const std::string valid_label = (data / "valid.bin").string();
  BatchSampler train_batches(train_tokens.tokens, B, T, seed, train_label.c_str());
  BatchSampler valid_batches(valid_tokens.tokens, B, T, seed, valid_label.c_str());

  const fs::path ckpt = out / "checkpoint.safetensors",
                 optim = out / "checkpoint.optim.safetensors";
  std::unique_ptr<DecoderLM> model;
  long start_step = 0;
  if (resume) {
    if (!fs::exists(ckpt)) throw UserError(ckpt.string() + ": no checkpoint to resume from");
    CheckpointInfo info;
    check_same_model(read_model_config(ckpt.string()), config, ckpt.string());
    auto loaded = load_model(ckpt.string(), &info);
    if (info.tokenizer_identity != tokenizer.identity())
      throw UserError(ckpt.string() + ": vocabulary mismatch: checkpoint tokenizer " +
                      info.tokenizer_identity + ", corpus tokenizer " + tokenizer.identity());
    start_step = info.step;
    // The loaded model carries the checkpoint's config; this run's config (dropout, steps, ...)
    // must govern training and be what later checkpoints record, so rebuild from it. The model
    // keys agree (checked above), hence the parameter layouts do too.
    model = std::make_unique<DecoderLM>(config);
    if (model->params().values().size() != loaded->params().values().size())
      throw UserError(ckpt.string() + ": parameter count does not match this run's config");
    model->params().values() = loaded->params().values();
  } else {
    model = std::make_unique<DecoderLM>(config);
    model->initialize(seed);
  }
  model->plan(B, T);
  AdamW opt(model->params(), AdamWSettings::from_config(config));
  if (resume) {
    opt.load(optim.string());
    if (opt.steps() != start_step)
      throw UserError(optim.string() + ": optimizer is at step " + std::to_string(opt.steps()) +
                      ", the model at " + std::to_string(start_step));
  }
  // Created only now, so that a config or checkpoint error leaves no empty run directory behind.
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out))
    throw UserError(out_dir + ": cannot create the run directory" +
                    (ec ? ": " + ec.message() : std::string()));
  fs::copy_file(data / "tokenizer.model", out / "tokenizer.model",
                fs::copy_options::overwrite_existing, ec);
  if (ec) throw UserError((out / "tokenizer.model").string() + ": cannot write: " + ec.message());
  write_text_atomic(out / "config.yaml", config.dump_yaml());

  Schedule schedule{config.get_string("schedule"), config.get_float("lr"),
                    config.get_float("min_lr"), config.get_int("warmup"), total_steps};
  const long eval_every = config.get_int("eval_every"), save_every = config.get_int("save_every");
  const long log_every = std::max(1L, config.get_int("log_every"));
  const long eval_batches = config.get_int("eval_batches");
  if (resume) {
    truncate_jsonl_after(out / "metrics.jsonl", start_step);
    truncate_jsonl_after(out / "diagnostics.jsonl", start_step);
  }
  std::ofstream metrics(out / "metrics.jsonl", resume ? std::ios::app : std::ios::trunc);
  if (!metrics) throw UserError((out / "metrics.jsonl").string() + ": cannot open for writing");
  std::vector<int32_t> x(static_cast<size_t>(B) * T), y(static_cast<size_t>(B) * T);
  ProgressBar bar(total_steps, config.get_bool("progress"));
  const bool quiet_log = bar.active();

  auto save = [&](long step) {
    save_model(ckpt.string(), *model, {tokenizer.identity(), step});
    opt.save(optim.string(), tokenizer.identity());
  };
  auto log_json = [&](const nlohmann::json& j) {
    metrics << j.dump() << '\n';
    metrics.flush();
  };

  const StabilitySettings stability = StabilitySettings::from_config(config);
  StabilityMonitor monitor(stability);
  DiagnosticsWriter diag((out / "diagnostics.jsonl").string(), resume, model->params());
  auto write_summary = [&](const TrainResult& r) {
    nlohmann::json j = {
        {"status", r.status},
        {"steps", r.steps},
        {"final_loss", r.last_loss},
        {"final_valid_loss",
         std::isfinite(r.valid_loss) ? nlohmann::json(r.valid_loss) : nlohmann::json()},
        {"skipped_steps", r.skipped},
        {"spikes", r.spikes},
        {"config", config.to_json()}};
    write_text_atomic(out / "summary.json", j.dump(1) + "\n");
  };

  TrainResult result;
  result.steps = start_step;
  auto t_last = std::chrono::steady_clock::now();
  long tokens_since = 0;
  double tok_per_s = 0;
  if (start_step == 0) {
    double vl = evaluate(*model, valid_batches, B, T, eval_batches, x, y);
    log_json({{"step", 0}, {"valid_loss", vl}, {"valid_ppl", std::exp(vl)}});
    // Step-0 probes: the initialised model on the first batch, no update.
    train_batches.sample(0, x.data(), y.data());
    model->set_dropout_seed(splitmix64(seed * 0x9E37ull));
    model->params().zero_grads();
    model->record_grad_norms = true;
    model->forward(x.data(), y.data(), B, T);
    model->backward();
    diag.before_update(*model);
    diag.after_update(0);
  }
  for (long step = start_step + 1; step <= total_steps; ++step) {
    ParamStore& p = model->params();
    const bool probe = DiagnosticsWriter::due(step, stability.diag_every, total_steps);
    p.zero_grads();
    double loss = 0;
    for (long micro = 0; micro < accum; ++micro) {
      const uint64_t index = static_cast<uint64_t>((step - 1) * accum + micro);
      train_batches.sample(index, x.data(), y.data());
      model->set_dropout_seed(splitmix64(seed * 0x9E37ull + index));
      model->record_grad_norms = probe && micro == accum - 1;
      loss += model->forward(x.data(), y.data(), B, T) / accum;
      model->backward();
    }
    if (accum > 1) {
      const float s = 1.0f / static_cast<float>(accum);
      for (auto& g : p.grads()) g *= s;
    }
    const double gnorm = global_grad_norm(p);
    const StepVerdict verdict = monitor.observe(step, loss, gnorm);
    if (verdict == StepVerdict::Diverged) {
      bar.finish();
      result.status = monitor.reason();
      result.last_loss = loss;
      result.skipped = monitor.skipped();
      result.spikes = monitor.spikes();
      log_json({{"step", step},
                {"loss", std::isfinite(loss) ? nlohmann::json(loss) : nlohmann::json()},
                {"diverged", true}});
      write_summary(result);
      return result;  // the last good checkpoint stays as it was
    }
    const double lr = schedule.at(step);
    if (verdict == StepVerdict::Skip) {
      log_json({{"step", step}, {"loss", loss}, {"grad_norm", gnorm}, {"skipped", true}});
    } else {
      if (probe) diag.before_update(*model);
      opt.step(static_cast<float>(lr), gnorm);
      if (probe) diag.after_update(step);
    }
    tokens_since += static_cast<long>(B) * T * accum;
    result.steps = step;
    result.last_loss = loss;
    if (step % log_every == 0 || step == total_steps || monitor.last_was_spike()) {
      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - t_last).count();
      tok_per_s = dt > 0 ? tokens_since / dt : 0;
      t_last = now;
      tokens_since = 0;
      nlohmann::json line = {{"step", step},
                             {"loss", loss},
                             {"lr", lr},
                             {"grad_norm", gnorm},
                             {"tokens_per_s", tok_per_s}};
      if (monitor.last_was_spike()) line["spike"] = true;
      log_json(line);
      if (!quiet_log)
        std::fprintf(stderr, "step %ld/%ld  loss %.4f  lr %.3g  |g| %.3f  %.0f tok/s%s\n", step,
                     total_steps, loss, lr, gnorm, tok_per_s,
                     monitor.last_was_spike() ? "  spike" : "");
    }
    char status[128];
    std::snprintf(status, sizeof status, "loss %.4f  %.0f tok/s", loss, tok_per_s);
    bar.update(step, status);
    if ((eval_every > 0 && step % eval_every == 0) || step == total_steps) {
      double vl = evaluate(*model, valid_batches, B, T, eval_batches, x, y);
      result.valid_loss = vl;
      log_json({{"step", step}, {"valid_loss", vl}, {"valid_ppl", std::exp(vl)}});
      if (!quiet_log)
        std::fprintf(stderr, "step %ld  valid loss %.4f  ppl %.2f\n", step, vl, std::exp(vl));
    }
    if ((save_every > 0 && step % save_every == 0) || step == total_steps) save(step);
  }
  if (start_step >= total_steps) {  // resumed at (or past) the end: nothing to train
    result.valid_loss = evaluate(*model, valid_batches, B, T, eval_batches, x, y);
    train_batches.sample(static_cast<uint64_t>((start_step - 1) * accum), x.data(), y.data());
    result.last_loss = model->forward(x.data(), y.data(), B, T);
  }
  result.skipped = monitor.skipped();
  result.spikes = monitor.spikes();
  write_summary(result);
  bar.finish();
  return result;
}

}  // namespace normlab
