// Training throughput of normlab on fixed model shapes, for comparison with
// bench/torch_reference.py (same shapes, same timing method). A timed step is what the trainer
// does per optimizer step: zero grads, forward with targets, backward, AdamW update. Tokens are
// random (fixed seed), so the numbers measure compute, not data loading.
//
// --matmul-peak instead measures the machine's matmul peak on the spot (oneDNN, f32 and, where
// the CPU has bf16 kernels, bf16 inputs with f32 output), the denominator of MFU in bench/run.sh.
#include <omp.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/rng.hpp"
#include "diag/diagnostics_writer.hpp"
#include "kernels/precision.hpp"
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
               "reference|deep24|deep48|long|gpt2small] [--steps N] [--warmup N] [--threads N] "
               "[--precision fp32|bf16] [--probe-steps N]\n       normlab_bench --matmul-peak "
               "[--threads N]\n",
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

// Matmul FLOPs per trained token (forward 1x, backward 2x; PaLM's convention, Chowdhery et al.
// 2022, appendix B): 6 N + 12 L T d, with N the weights that enter a product (per block qkv, proj,
// fc1, fc2: 4 d^2 + 2 d d_ff; plus the tied output head V d) and 12 L T d for attention's QK^T and
// PV counted over the full T x T (the causal mask would halve it; PaLM counts it whole).
double flops_per_token(const BenchShape& s) {
  const double d = s.d, L = s.layers;
  const double n_matmul = L * (4 * d * d + 2 * d * s.d_ff) + static_cast<double>(s.vocab) * d;
  return 6 * n_matmul + 12 * L * s.T * d;
}

// GFLOP/s of one oneDNN matmul C[M,N] = A[M,K] B[K,N] with inputs of `type` (f32 or bf16) and an
// f32 output, best of several timed runs after a warm-up. Inputs are pre-converted: this is the
// kernel's peak, not normlab's matmul() with its conversion.
double matmul_gflops(dnnl::memory::data_type type, int M, int N, int K) {
  using dnnl::memory;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  memory::desc a_md({M, K}, type, memory::dims{K, 1});
  memory::desc b_md({K, N}, type, memory::dims{N, 1});
  memory::desc c_md({M, N}, memory::data_type::f32, memory::dims{N, 1});
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), engine);
  memory a(a_md, engine), b(b_md, engine), c(c_md, engine);
  // Fill with small finite values (1/8 in f32 or bf16 bits) so no NaN or denormal slows a kernel.
  if (type == memory::data_type::bf16) {
    for (auto* m : {&a, &b}) {
      auto* p = static_cast<uint16_t*>(m->get_data_handle());
      for (size_t i = 0; i < m->get_desc().get_size() / 2; ++i) p[i] = 0x3E00;
    }
  } else {
    for (auto* m : {&a, &b}) {
      auto* p = static_cast<float*>(m->get_data_handle());
      for (size_t i = 0; i < m->get_desc().get_size() / 4; ++i) p[i] = 0.125f;
    }
  }
  dnnl::matmul prim(pd);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
  prim.execute(stream, args);
  stream.wait();
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const int inner = 3;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) prim.execute(stream, args);
    stream.wait();
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * M * N * K * inner / sec / 1e9);
  }
  return best;
}

int matmul_peak() {
  // The largest of a few training-like shapes (the brief's 2048 x 1024 x 1024 among them).
  const int shapes[][3] = {{2048, 1024, 1024}, {2048, 3072, 768}, {2048, 768, 3072}};
  double f32 = 0, bf16 = 0;
  for (const auto& sh : shapes)
    f32 = std::max(f32, matmul_gflops(dnnl::memory::data_type::f32, sh[0], sh[1], sh[2]));
  const bool native = normlab::native_bf16_matmul();
  if (native) {
    for (const auto& sh : shapes)
      bf16 = std::max(bf16, matmul_gflops(dnnl::memory::data_type::bf16, sh[0], sh[1], sh[2]));
  }
  std::printf(
      "{\"impl\":\"matmul_peak\",\"threads\":%d,\"isa\":\"%s\",\"bf16_native\":%s,"
      "\"f32_gflops\":%.1f,\"bf16_gflops\":%s}\n",
      omp_get_max_threads(), normlab::onednn_cpu_isa().c_str(), native ? "true" : "false", f32,
      native ? std::to_string(bf16).c_str() : "null");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string name = "reference", precision = "fp32";
  int steps = 20, warmup = 3, threads = 0, probed_steps = 3;
  bool peak = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--matmul-peak") {
      peak = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    if (a == "--precision") {
      precision = argv[++i];
      if (precision != "fp32" && precision != "bf16") usage("--precision: fp32 or bf16");
    } else if (a == "--config-name") {
      name = argv[++i];
    } else if (a == "--steps") {
      steps = parse_count(a, argv[++i], 1);
    } else if (a == "--warmup") {
      warmup = parse_count(a, argv[++i], 0);
    } else if (a == "--probe-steps") {
      probed_steps = parse_count(a, argv[++i], 0);
    } else if (a == "--threads") {
      threads = parse_count(a, argv[++i], 0);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (threads > 0) omp_set_num_threads(threads);
  if (peak) return matmul_peak();
  auto it = bench_shapes().find(name);
  if (it == bench_shapes().end()) usage(("unknown config name '" + name + "'").c_str());
  const BenchShape& s = it->second;
  const normlab::PrecisionChoice choice = normlab::resolve_precision(precision);
  normlab::set_matmul_precision(choice.precision);
  if (!choice.note.empty()) std::fprintf(stderr, "normlab_bench: %s\n", choice.note.c_str());

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
    normlab::AdamW opt(model, normlab::AdamWSettings::from_config(config));

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
        probed_steps == 0
            ? ms_per_step
            : 1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - tp0).count() /
                  probed_steps;
    const double overhead_pct_every_100 = 100.0 * (probed_ms - ms_per_step) / (100.0 * ms_per_step);
    std::printf(
        "{\"impl\":\"normlab\",\"config\":\"%s\",\"precision\":\"%s%s\",\"threads\":%d,"
        "\"steps\":%d,\"tokens_per_s\":%.1f,\"ms_per_step\":%.3f,\"cpu_ms_per_step\":%.3f,"
        "\"peak_rss_mb\":%.1f,\"final_loss\":%.4f,\"flops_per_token\":%.6g,"
        "\"probed_step_ms\":%.3f,\"diag_overhead_pct_every_100\":%.3f}\n",
        name.c_str(), normlab::precision_name(choice.precision), choice.emulated ? "-emulated" : "",
        omp_get_max_threads(), steps, tokens_per_s, ms_per_step, cpu_ms_per_step, peak_rss_mb(),
        loss, flops_per_token(s), probed_ms, overhead_pct_every_100);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
