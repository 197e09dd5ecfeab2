// Attention kernel timings (kernels/attention.hpp), forward (with and without entropy) and
// backward separately; self-attention reads a fused qkv buffer (stride 3d) as the decoder does.
// Median time (CPU by default) of --reps runs.
//   attention_bench [--threads N] [--reps N] [--only NAME] [--clock cpu|wall]
// Shapes: the reference model's attention (B 16, H 4, d 256, T 128, causal), the long config
// (T 1024), an encoder with key padding, cross-attention, and one decoding step over a 1024-key
// cache (token-major and head-major).
// Measured against the replaced kernel that stored P [B, H, T, T] (1 thread, shared machine):
// reference fwd+bwd 11.3-12.0 ms vs 15.0-15.2 ms; long 538 ms vs 1084 ms, 0.26 MB lse vs 268 MB P.
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "kernels/attention.hpp"

namespace {

using normlab::AttentionDims;

struct Shape {
  const char* name;
  int B, H, d, Tq, Tk;
  bool causal, padded;
};

// Median over reps of the time of f, after one warm-up run (scratch growth, page faults). By
// default process CPU time: the machine is shared, and with --threads 1 CPU time is what the
// kernel costs whatever else runs (with more threads it sums over threads). --clock wall for the
// elapsed time, meaningful with --threads 2 on an idle machine only.
clockid_t g_clock = CLOCK_PROCESS_CPUTIME_ID;

double median_ms(int reps, const std::function<void()>& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    timespec t0, t1;
    clock_gettime(g_clock, &t0);
    f();
    clock_gettime(g_clock, &t1);
    t.push_back((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<float> random_vec(size_t n, uint64_t seed) {
  normlab::Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

void run(const Shape& s, int reps) {
  const size_t d = s.d;
  // Self-attention shapes read q, k, v from one fused [B, T, 3d] buffer; cross and decode read q
  // from [B, Tq, d] and k, v from a fused [B, Tk, 2d] buffer.
  const bool self = s.Tq == s.Tk;
  const auto q_buf = random_vec(static_cast<size_t>(s.B) * s.Tq * (self ? 3 : 1) * d, 1);
  const auto kv_buf = self ? q_buf : random_vec(static_cast<size_t>(s.B) * s.Tk * 2 * d, 2);
  const float* q = q_buf.data();
  const float* k = self ? q + d : kv_buf.data();
  const float* v = k + d;
  std::vector<int32_t> key_len(s.B);
  for (int b = 0; b < s.B; ++b) key_len[b] = s.padded ? s.Tk - (b * s.Tk) / (2 * s.B) : s.Tk;

  AttentionDims a;
  a.B = s.B;
  a.H = s.H;
  a.d = s.d;
  a.Tq = s.Tq;
  a.Tk = s.Tk;
  a.causal = s.causal;
  a.key_len = s.padded ? key_len.data() : nullptr;
  a.q_stride = static_cast<int>((self ? 3 : 1) * d);
  a.kv_stride = static_cast<int>((self ? 3 : 2) * d);

  const size_t n_out = static_cast<size_t>(s.B) * s.Tq * d;
  std::vector<float> out(n_out), lse(static_cast<size_t>(s.B) * s.H * s.Tq), ent(lse.size());
  const auto dout = random_vec(n_out, 3);
  std::vector<float> dq(q_buf.size(), 0.0f), dkv(self ? 0 : kv_buf.size(), 0.0f);
  float* dqp = dq.data();
  float* dkp = self ? dqp + d : dkv.data();
  float* dvp = dkp + d;

  const double fwd =
      median_ms(reps, [&] { attention_forward(out.data(), lse.data(), nullptr, q, k, v, a); });
  const double fwd_ent =
      median_ms(reps, [&] { attention_forward(out.data(), lse.data(), ent.data(), q, k, v, a); });
  const double bwd = median_ms(reps, [&] {
    attention_backward(dqp, dkp, dvp, dout.data(), out.data(), lse.data(), q, k, v, a);
  });
  std::printf(
      "%-16s B %2d H %2d d %3d Tq %4d Tk %4d | fwd %8.3f (+entropy %8.3f) bwd %8.3f "
      "sum %8.3f ms (lse %.2f MB)\n",
      s.name, s.B, s.H, s.d, s.Tq, s.Tk, fwd, fwd_ent, bwd, fwd + bwd, lse.size() * 4.0 / 1e6);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 20;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clock")) {
      g_clock = !std::strcmp(argv[i + 1], "wall") ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
    } else if (!std::strcmp(argv[i], "--only")) {
      only = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--threads")) {
      threads = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--reps")) {
      reps = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(
          stderr,
          "usage: attention_bench [--threads N] [--reps N] [--only NAME] [--clock cpu|wall]\n");
      return 2;
    }
  }
  if (threads < 1 || reps < 1) {
    std::fprintf(stderr, "attention_bench: --threads and --reps must be >= 1\n");
    return 2;
  }
  omp_set_num_threads(threads);
  std::printf("threads %d, median %s time of %d runs\n", threads,
              g_clock == CLOCK_MONOTONIC ? "wall" : "CPU", reps);
  const Shape shapes[] = {
      {"reference", 16, 4, 256, 128, 128, true, false},
      {"gpt2small", 8, 12, 768, 256, 256, true, false},
      {"long", 16, 4, 256, 1024, 1024, true, false},
      {"encoder_padded", 16, 4, 256, 128, 128, false, true},
      {"cross", 16, 4, 256, 32, 128, false, true},
      {"decode", 16, 4, 256, 1, 1024, true, false},
      // The same step with a head-major cache [B*H, Tk, 2 hd] (called as B*H batches of one head):
      // each head's keys are then contiguous.
      {"decode_headmajor", 64, 1, 64, 1, 1024, true, false},
  };
  for (const Shape& s : shapes) {
    if (only.empty() || only == s.name) run(s, s.Tq >= 1024 ? std::max(1, reps / 5) : reps);
  }
  return 0;
}
