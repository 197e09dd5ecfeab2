#include "train/trainer.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/files.hpp"
#include "core/terminal.hpp"
#include "core/threads.hpp"
#include "data/tokenizer.hpp"
#include "diag/diagnostics_writer.hpp"
#include "diag/monitor.hpp"
#include "kernels/precision.hpp"
#include "model/block_description.hpp"
#include "model/checkpoint.hpp"
#include "train/directory_lock.hpp"
#include "train/distributed.hpp"
#include "train/interrupt.hpp"
#include "train/memory_estimate.hpp"
#include "train/optimizer.hpp"
#include "train/progress.hpp"
#include "train/run_banner.hpp"
#include "train/run_directory.hpp"
#include "train/saved_state.hpp"
#include "train/schedule.hpp"
#include "train/task.hpp"
#include "train/training_step.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

// The validation loss: each rank evaluates its share of the batches, the shares are summed over
// the ranks (one process: all of them, as before).
double validation_loss(TrainingTask& task, long max_batches, const Ranks& ranks) {
  const TrainingTask::LossSum share = task.evaluate_share(max_batches, ranks.rank(), ranks.size());
  double totals[2] = {share.sum, share.weight};
  ranks.sum(totals, 2);
  return totals[1] > 0 ? totals[0] / totals[1] : NAN;
}

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

}  // namespace

TrainResult train(Config config, RunStart start, const MetricsCallback& on_metrics,
                  const Ranks& ranks) {
  const bool resume = start == RunStart::Resume;
  const std::string data_dir = config.get_string("data");
  std::string out_dir = config.get_string("out_dir");
  if (data_dir.empty())
    throw UserError("option 'data': give a prepared corpus directory ('normlab prepare')");
  if (out_dir.empty()) throw UserError("option 'out_dir': give a directory for the run");
  const fs::path data(data_dir), out(out_dir);
  // Data-parallel ranks (train/distributed.hpp): all train, only rank 0 (the writer) touches the
  // run directory and prints.
  const bool writer = ranks.is_root();
  ranks.restart_gradient_sum_time();  // this run's: a sweep's group of ranks trains several
  // Everything is checked before the first file of the run is written (docs/reliability.md).
  if (writer) check_run_directory(out, start);
  // One writer per run: a second train (or sweep) on the same out_dir is refused.
  const char* const kBusy = "another normlab process is writing this run";
  std::unique_ptr<DirectoryLock> lock;
  if (writer && fs::is_directory(out)) lock = std::make_unique<DirectoryLock>(out, "", kBusy);
  if (resume) check_continuation(read_run_config(out), config, out);
  configure_threads(threads_per_rank(config.get_int("threads"), ranks));
  // Matmul precision of this run (kernels/precision.hpp); the previous one is restored on return.
  const PrecisionChoice precision = resolve_precision(config.get_string("precision"));
  ScopedMatmulPrecision precision_scope(precision.precision);

  // The vocabulary comes from the corpus's tokenizer.
  check_corpus_dir(data);
  Tokenizer tokenizer((data / "tokenizer.model").string());
  config.set("vocab_size", std::to_string(tokenizer.vocab_size()), "tokenizer");

  const long accum = config.get_int("grad_accum"), total_steps = config.get_int("steps");
  const uint64_t seed = static_cast<uint64_t>(config.get_int("seed"));
  if (config.get_int("batch_size") <= 0 || accum <= 0 || total_steps <= 0)
    throw UserError("options 'batch_size', 'grad_accum' and 'steps' must be positive");

  // Parameters, optimizer and activations must fit before any of them is allocated.
  check_training_memory(config, data);

  // The newest complete state (none yet: a resumed run starts again from its initialisation).
  const SavedState saved = resume ? find_saved_state(out) : SavedState{};
  const std::string ckpt = saved.model.string();
  std::unique_ptr<Model> model;
  long start_step = 0;
  if (saved.exists) {
    CheckpointInfo info;
    check_same_model(read_model_config(ckpt), config, ckpt);
    auto loaded = load_model(ckpt, &info);
    if (info.tokenizer_identity != tokenizer.identity())
      throw UserError(ckpt + ": vocabulary mismatch: checkpoint tokenizer " +
                      info.tokenizer_identity + ", corpus tokenizer " + tokenizer.identity());
    start_step = info.step;
    // `precision auto` follows the machine; a run continued on another kind of CPU would train
    // its remaining steps in another precision without anyone asking for it.
    const std::string now = precision_name(precision.precision);
    if (config.get_string("precision") == "auto" && !info.matmul_precision.empty() &&
        info.matmul_precision != now)
      throw UserError(ckpt + ": this run trained with " + info.matmul_precision +
                      " matmuls and 'precision auto' means " + now + " on this CPU (oneDNN ISA " +
                      onednn_cpu_isa() + "): give --precision " + info.matmul_precision +
                      " to continue it as it trained, or --precision " + now + " to change it");
    // The loaded model carries the checkpoint's config; this run's config (steps, ...) must
    // govern training and be what later checkpoints record, so rebuild from it. The model keys
    // agree (checked above), hence the parameter layouts do too.
    model = Model::create(config);
    if (model->params().values().size() != loaded->params().values().size())
      throw UserError(ckpt + ": parameter count does not match this run's config");
    model->params().values() = loaded->params().values();
    // Admin's omega come from the profiling pass at initialisation: a checkpoint without its
    // record was never profiled, and profiling now, on a trained model, would be another design.
    if (model->needs_shortcut_profile() && loaded->shortcut_profile.empty())
      throw UserError(ckpt +
                      ": no 'normlab.shortcut_profile' in __metadata__: its shortcut "
                      "weights (omega) were never profiled, so the run cannot resume");
    model->shortcut_profile = loaded->shortcut_profile;
  } else {
    model = Model::create(config);
    model->initialize(seed);
  }
  std::unique_ptr<TrainingTask> task =
      make_training_task(config, data, tokenizer, std::move(model));
  Model* const net = &task->model();
  // Admin's omega: profiled once, on a fresh run; a resumed run has them in its checkpoint.
  const bool profiled = !saved.exists && profile_shortcut_weights(*task);
  AdamW opt(*net, AdamWSettings::from_config(config));
  if (saved.exists) {
    opt.load(saved.optimizer.string());
    if (opt.steps() != start_step)
      throw UserError(saved.optimizer.string() + ": optimizer is at step " +
                      std::to_string(opt.steps()) + ", the model at " + std::to_string(start_step));
  }

  // All inputs are valid: now the run directory. config.yaml first: from then on the directory
  // is a run that --resume can continue, whenever a kill comes. Every rank has read the saved
  // state before the writer changes the directory.
  ranks.barrier();
  std::error_code ec;
  if (writer) {
    fs::create_directories(out, ec);
    if (ec || !fs::is_directory(out))
      throw UserError(out_dir + ": cannot create the run directory" +
                      (ec ? ": " + ec.message() : std::string()));
    if (!lock) lock = std::make_unique<DirectoryLock>(out, "", kBusy);
    if (start == RunStart::Overwrite) clear_run_directory(out);
    if (resume) recover_saved_state(out);
    remove_temporary_files(out);
    fs::remove(out / "summary.json", ec);  // the run is neither finished nor interrupted now
    write_text_atomic((out / "config.yaml").string(), dump_config_with_layers(config));
    copy_file_atomic(data / "tokenizer.model", out / "tokenizer.model");
    // Said once the run is set up, so that a config error stays the only line on stderr.
    for (const std::string& line : run_banner(config, *net, precision, thread_count(), ranks.size(),
                                              start_step, task->epoch_summary()))
      print_line(stdout, line);
    if (!precision.note.empty()) print_line(stdout, "normlab: " + precision.note);
    if (profiled)
      print_line(stdout, "normlab: Admin's shortcut weights profiled on " + net->shortcut_profile);
    // Ranks share whole micro-batches (training_step.hpp): an uneven share leaves cores idle.
    if (accum % ranks.size() != 0)
      print_line(stdout, "normlab: " + std::to_string(ranks.size()) + " ranks share " +
                             std::to_string(accum) +
                             " micro-batches per step (grad_accum): some ranks run fewer or "
                             "none; a multiple of " +
                             std::to_string(ranks.size()) + " uses them all");
    for (const std::string& w : run_warnings(config)) print_line(stderr, "normlab: warning: " + w);
  }

  const Schedule schedule = Schedule::from_config(config, total_steps);
  const long eval_every = config.get_int("eval_every"), save_every = config.get_int("save_every");
  const long log_every = std::max(1L, config.get_int("log_every"));
  const long eval_batches = config.get_int("eval_batches");
  const long keep_last = config.get_int("keep_last");
  if (start_step > 0 && writer) {
    truncate_jsonl_after(out / "metrics.jsonl", start_step);
    truncate_jsonl_after(out / "diagnostics.jsonl", start_step);
  }
  // The other ranks write their (identical) metrics to the null device.
  std::ofstream metrics(writer ? out / "metrics.jsonl" : fs::path("/dev/null"),
                        start_step > 0 ? std::ios::app : std::ios::trunc);
  if (!metrics) throw UserError((out / "metrics.jsonl").string() + ": cannot open for writing");
  // The bar (on a terminal) or a plain line every log_every steps; validation lines either way.
  ProgressBar bar(total_steps, writer && config.get_bool("progress"), start_step);
  const bool quiet_log = bar.active() || !writer;

  long saved_step = start_step;
  auto save = [&](long step) {
    const std::vector<float>& w = net->params().values();
    ranks.check_same(checksum(w.data(), w.size() * sizeof(float)),
                     "the weights at step " + std::to_string(step));
    if (writer)
      save_state(
          out, step, saved_step, keep_last,
          [&](const std::string& path) {
            save_model(path, *net,
                       {tokenizer.identity(), step, precision_name(precision.precision)});
          },
          [&](const std::string& path) { opt.save(path, tokenizer.identity()); });
    saved_step = step;
  };
  auto log_json = [&](const nlohmann::json& j) {
    metrics << j.dump() << '\n';
    metrics.flush();
    if (!metrics)
      throw UserError((out / "metrics.jsonl").string() + ": cannot write: " + std::strerror(errno));
  };

  const StabilitySettings stability = StabilitySettings::from_config(config);
  StabilityMonitor monitor(stability);
  DiagnosticsWriter diag(writer ? (out / "diagnostics.jsonl").string() : "/dev/null",
                         start_step > 0, net->params());
  const double unigram = task->unigram_loss();  // where a stalled run sits (summary.json)
  auto write_summary = [&](const TrainResult& r) {
    nlohmann::json j = {
        {"status", r.status},
        {"steps", r.steps},
        {"final_loss", r.last_loss},
        {"final_valid_loss",
         std::isfinite(r.valid_loss) ? nlohmann::json(r.valid_loss) : nlohmann::json()},
        {"skipped_steps", r.skipped},
        {"spikes", r.spikes},
        {"unigram_loss", std::isfinite(unigram) ? nlohmann::json(unigram) : nlohmann::json()},
        {"matmul_precision", std::string(precision_name(precision.precision)) +
                                 (precision.emulated ? " (emulated)" : "")},
        {"ranks", ranks.size()},
        {"config", config.to_json()}};
    if (ranks.size() > 1) {  // this process's share of the run (bench/mpi_scaling.sh reads it)
      const Ranks::SumTime& t = ranks.gradient_sum_time();
      j["gradient_sum"] = {{"steps", t.calls},
                           {"allreduces", t.allreduces},
                           {"bytes", t.bytes},
                           {"wait_s", t.wait_s},
                           {"allreduce_s", t.allreduce_s},
                           {"fastest_allreduce_s", t.fastest_s}};
    }
    if (writer) write_text_atomic(out / "summary.json", j.dump(1) + "\n");
  };

  TrainResult result;
  result.steps = start_step;
  InterruptHandler interrupts(!writer            ? InterruptNote::Silent
                              : ranks.size() > 1 ? InterruptNote::FirstOfRanks
                                                 : InterruptNote::OneProcess);
  auto t_last = std::chrono::steady_clock::now();
  long tokens_since = 0;
  double tok_per_s = 0;
  if (start_step == 0) {
    double vl = validation_loss(*task, eval_batches, ranks);
    const nlohmann::json valid = {{"step", 0}, {"valid_loss", vl}, {"valid_ppl", std::exp(vl)}};
    log_json(valid);
    if (on_metrics) on_metrics(valid);
    // Step-0 probes: the initialised model on the first batch, no update.
    net->set_dropout_seed(dropout_seed(seed, 0));
    net->params().zero_grads();
    net->record_grad_norms = true;
    long ignored = 0;
    task->train_batch(0, &ignored);
    diag.before_update(*net);
    diag.after_update(0);
  }
  TrainingStep training_step(*task, opt, schedule, accum, seed, &ranks);
  for (long step = start_step + 1; step <= total_steps; ++step) {
    const bool probe = DiagnosticsWriter::due(step, stability.diag_every, total_steps);
    StepVerdict verdict = StepVerdict::Apply;
    const StepResult r = training_step.run(step, probe, [&](const StepResult& s) {
      verdict = monitor.observe(step, s.loss, s.grad_norm);
      if (verdict != StepVerdict::Apply) return false;
      if (probe) diag.before_update(*net);
      return true;
    });
    const double loss = r.loss, gnorm = r.grad_norm, lr = r.lr;
    tokens_since += r.tokens;
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
    if (verdict == StepVerdict::Skip)
      log_json({{"step", step}, {"loss", loss}, {"grad_norm", gnorm}, {"skipped", true}});
    else if (probe)
      diag.after_update(step);
    result.steps = step;
    result.last_loss = loss;
    if (on_metrics) {
      nlohmann::json m = {{"step", step}, {"loss", loss}, {"lr", lr}, {"grad_norm", gnorm}};
      if (verdict == StepVerdict::Skip) m["skipped"] = true;
      if (monitor.last_was_spike()) m["spike"] = true;
      on_metrics(m);
    }
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
      if (!quiet_log) {
        char text[160];
        std::snprintf(text, sizeof text, "step %ld/%ld  loss %.4f  lr %.3g  |g| %.3f  %.0f tok/s%s",
                      step, total_steps, loss, lr, gnorm, tok_per_s,
                      monitor.last_was_spike() ? "  spike" : "");
        bar.line(text + ("  " + bar.timing(step)));
      }
    }
    char status[128];
    std::snprintf(status, sizeof status, "loss %.4f", loss);
    if (tok_per_s > 0)  // measured at the first log line
      std::snprintf(status, sizeof status, "loss %.4f  %.0f tok/s", loss, tok_per_s);
    bar.update(step, status);
    if ((eval_every > 0 && step % eval_every == 0) || step == total_steps) {
      double vl = validation_loss(*task, eval_batches, ranks);
      result.valid_loss = vl;
      const nlohmann::json valid = {
          {"step", step}, {"valid_loss", vl}, {"valid_ppl", std::exp(vl)}};
      log_json(valid);
      if (on_metrics) on_metrics(valid);
      char text[96];
      std::snprintf(text, sizeof text, "step %ld  valid loss %.4f  ppl %.2f", step, vl,
                    std::exp(vl));
      if (writer) bar.line(text);
    }
    if ((save_every > 0 && step % save_every == 0) || step == total_steps) save(step);
    // A signal may reach the ranks at different steps: they stop together at the first one.
    if (ranks.max(interrupt_signal()) != 0) break;
  }
  if (const int signal = static_cast<int>(ranks.max(interrupt_signal()));
      signal != 0 && result.steps < total_steps) {
    if (saved_step != result.steps) save(result.steps);
    bar.finish();
    result.status = "interrupted at step " + std::to_string(result.steps);
    result.signal = signal;
    result.skipped = monitor.skipped();
    result.spikes = monitor.spikes();
    write_summary(result);
    return result;
  }
  if (start_step >= total_steps) {  // resumed at (or past) the end: nothing to train
    result.valid_loss = validation_loss(*task, eval_batches, ranks);
    result.last_loss = task->batch_loss(static_cast<uint64_t>((start_step - 1) * accum));
  }
  result.skipped = monitor.skipped();
  result.spikes = monitor.spikes();
  write_summary(result);
  bar.finish();
  return result;
}

}  // namespace normlab
