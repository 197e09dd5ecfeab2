// Generation speed: tokens per second of incremental decoding with the KV cache against
// recomputing the whole prefix for every new token (issue target: the cache at least 5x faster
// per token), for the decoder-only LM at the reference width; and batched greedy / beam search
// with the encoder–decoder's self- and cross-attention caches.
//   generation_bench [--tokens 128] [--threads 2]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "decode/beam_search.hpp"
#include "decode/encoder_decoder_scorer.hpp"
#include "model/decoder_lm.hpp"
#include "model/encoder_decoder.hpp"
#include "model/kv_cache.hpp"

using namespace normlab;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The bench's reference width (bench/train_throughput.cpp): d 256, 4 heads, 6 layers, d_ff 1024.
Config reference(int seq_len) {
  Config c = Config::defaults();
  c.set("vocab_size", "4096", "bench");
  c.set("d_model", "256", "bench");
  c.set("n_heads", "4", "bench");
  c.set("n_layers", "6", "bench");
  c.set("d_ff", "1024", "bench");
  c.set("seq_len", std::to_string(seq_len), "bench");
  c.set("placement", "pre", "bench");
  return c;
}

void language_model(int T) {
  DecoderLM model(reference(T));
  model.initialize(2);
  model.training = false;
  std::vector<int32_t> tokens(static_cast<size_t>(T));
  for (int t = 0; t < T; ++t) tokens[t] = (t * 131 + 7) % 4096;
  model.plan(1, T);
  // Uncached: the step producing token t runs the forward over the t tokens before it.
  model.forward(tokens.data(), nullptr, 1, 1);  // warm oneDNN's primitive cache
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 1; t <= T; ++t) model.forward(tokens.data(), nullptr, 1, t);
  const double uncached = seconds_since(t0);
  KVCache cache(model);
  model.forward_next(tokens[0], 0, cache);
  cache.clear();
  t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < T; ++t) model.forward_next(tokens[t], t, cache);
  const double cached = seconds_since(t0);
  std::printf("lm generation, %d tokens: uncached %.0f tok/s, KV cache %.0f tok/s, speedup %.1fx\n",
              T, T / uncached, T / cached, uncached / cached);
}

// 32 sources of 24 tokens, output forced to `T` tokens (min_len = max_len) so that every search
// does the same work.
void translation(int T) {
  Config c = reference(std::max(T + 2, 32));
  c.set("arch", "encdec", "bench");
  EncoderDecoder model(c);
  model.initialize(3);
  const int sources = 32, S = 24, eos = 2;
  std::vector<int32_t> src(static_cast<size_t>(sources) * S), src_len(sources, S);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<int32_t>((i * 37 + 11) % 4000) + 3;
  for (int beam : {1, 4}) {
    EncoderDecoderScorer scorer(model, sources, sources * beam);
    BeamOptions o;
    o.beam = beam;
    o.max_len_a = 0, o.max_len_b = T, o.min_len = T;
    auto t0 = std::chrono::steady_clock::now();
    scorer.encode(src.data(), src_len.data(), sources, S);
    std::vector<int> lengths(sources, S);
    long produced = 0;
    if (beam == 1) {
      auto hyps = greedy_search(scorer, lengths, eos, eos, T);
      for (auto& h : hyps) produced += static_cast<long>(h.tokens.size());
    } else {
      auto hyps = beam_search(scorer, lengths, eos, eos, o);
      for (auto& h : hyps) produced += static_cast<long>(h.front().tokens.size());
    }
    const double s = seconds_since(t0);
    std::printf("encdec %s, %d sources x %d tokens: %.0f output tok/s (%.2f s)\n",
                beam == 1 ? "greedy" : "beam 4", sources, T, produced / s, s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int tokens = 128, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) tokens = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  omp_set_num_threads(threads);
  language_model(tokens);
  translation(std::min(tokens, 64));
  return 0;
}
