// Training throughput of normlab on fixed model shapes, for comparison with
// bench/torch_reference.py (same shapes, same timing method). A timed step is what the trainer
// does per optimizer step: zero grads, forward with targets, backward, AdamW update. Tokens are
// random (fixed seed), so the numbers measure compute, not data loading.
#include <omp.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/rng.hpp"
#include "diag/diagnostics_writer.hpp"
#include "model/decoder_lm.hpp"
#include "train/optimizer.hpp"

namespace {

struct BenchShape {
  int vocab, d, heads, layers, d_ff, T, B;
};

// Keep in sync with CONFIGS in bench/torch_reference.py.
const std::map<std::string, BenchShape>& bench_shapes() {
  static const std::map<std::string, BenchShape> shapes = {
      {"reference", {4096, 256, 4, 6, 1024, 128, 16}},
      {"deep24", {4096, 256, 4, 24, 1024, 128, 16}},
      {"deep48", {4096, 256, 4, 48, 1024, 128, 16}},
      {"long", {4096, 256, 4, 6, 1024, 1024, 16}},
      {"gpt2small", {8192, 768, 12, 12, 3072, 256, 8}},
  };
  return shapes;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "normlab_bench: %s\nusage: normlab_bench [--config-name "
               "reference|deep24|deep48|long|gpt2small] [--steps N] [--warmup N] [--threads N]\n",
               why);
  std::exit(2);
}

int parse_count(const std::string& flag, const char* text, int min) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < min) usage((flag + ": bad value '" + text + "'").c_str());
  return static_cast<int>(v);
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// CPU seconds of the whole process (all threads). On a shared machine wall time includes time
// spent descheduled; CPU time per step does not, so it shows whether a slow run was starved.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  std::string name = "reference";
  int steps = 20, warmup = 3, threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    if (a == "--config-name") {
      name = argv[++i];
    } else if (a == "--steps") {
      steps = parse_count(a, argv[++i], 1);
    } else if (a == "--warmup") {
      warmup = parse_count(a, argv[++i], 0);
    } else if (a == "--threads") {
      threads = parse_count(a, argv[++i], 0);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  auto it = bench_shapes().find(name);
  if (it == bench_shapes().end()) usage(("unknown config name '" + name + "'").c_str());
  const BenchShape& s = it->second;
  if (threads > 0) omp_set_num_threads(threads);

  try {
    normlab::Config config = normlab::Config::defaults();
    const std::string origin = "bench:" + name;
    config.set("vocab_size", std::to_string(s.vocab), origin);
    config.set("d_model", std::to_string(s.d), origin);
    config.set("n_heads", std::to_string(s.heads), origin);
    config.set("n_layers", std::to_string(s.layers), origin);
    config.set("d_ff", std::to_string(s.d_ff), origin);
    config.set("seq_len", std::to_string(s.T), origin);
    config.set("batch_size", std::to_string(s.B), origin);
    config.set("placement", "pre", origin);
    config.set("norm", "layernorm", origin);
    config.set("positions", "learned", origin);
    config.set("dropout", "0", origin);
    // The PyTorch side runs plain torch.optim.AdamW (one group, weight decay 0.01 on every
    // tensor, no clipping); match it.
    config.set("clip_norm", "0", origin);
    config.set("weight_decay", "0.01", origin);
    config.set("decay_all", "true", origin);  // torch.optim.AdamW decays every tensor

    normlab::DecoderLM model(config);
    model.plan(s.B, s.T);
    model.initialize(1);
    normlab::AdamW opt(model.params(), normlab::AdamWSettings::from_config(config));

    const size_t BT = static_cast<size_t>(s.B) * s.T;
    std::vector<int32_t> x(BT), y(BT);
    normlab::Rng rng(1234);
    for (size_t i = 0; i < BT; ++i) {
      x[i] = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(s.vocab));
      y[i] = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(s.vocab));
    }

    double loss = 0;
    auto step = [&] {
      model.params().zero_grads();
      loss = model.forward(x.data(), y.data(), s.B, s.T);
      model.backward();
      opt.step(1e-4f);
    };
    for (int i = 0; i < warmup; ++i) step();
    const double cpu0 = process_cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    auto t1 = std::chrono::steady_clock::now();
    const double cpu_ms_per_step = 1e3 * (process_cpu_seconds() - cpu0) / steps;
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    const double ms_per_step = 1e3 * seconds / steps;
    const double tokens_per_s = static_cast<double>(BT) * steps / seconds;

    // Cost of the stability probes (docs/diagnostics.md): a probed step records gradient norms
    // in the backward and writes a diagnostics line; with diag_every N the throughput loss is
    // (probed - plain) / (N * plain).
    normlab::DiagnosticsWriter diag("/dev/null", false, model.params());
    const int probed_steps = 3;
    auto tp0 = std::chrono::steady_clock::now();
    for (int i = 0; i < probed_steps; ++i) {
      model.params().zero_grads();
      model.record_grad_norms = true;
      loss = model.forward(x.data(), y.data(), s.B, s.T);
      model.backward();
      diag.before_update(model);
      opt.step(1e-4f);
      diag.after_update(i);
    }
    model.record_grad_norms = false;
    const double probed_ms =
        1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - tp0).count() /
        probed_steps;
    const double overhead_pct_every_100 = 100.0 * (probed_ms - ms_per_step) / (100.0 * ms_per_step);
    std::printf(
        "{\"impl\":\"normlab\",\"config\":\"%s\",\"threads\":%d,\"steps\":%d,\"tokens_per_s\":%.1f,"
        "\"ms_per_step\":%.3f,\"cpu_ms_per_step\":%.3f,\"peak_rss_mb\":%.1f,\"final_loss\":%.4f,"
        "\"probed_step_ms\":%.3f,\"diag_overhead_pct_every_100\":%.3f}\n",
        name.c_str(), omp_get_max_threads(), steps, tokens_per_s, ms_per_step, cpu_ms_per_step,
        peak_rss_mb(), loss, probed_ms, overhead_pct_every_100);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
