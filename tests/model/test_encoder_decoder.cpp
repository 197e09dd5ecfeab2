// The encoder–decoder: whole-model finite-difference gradients for every placement (with padded
// sources and ignored targets, so that masks and cross-attention are on every path), padding
// invariance, incremental decoding against the full forward, DeepNorm's constants and Magneto's
// init.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "model/encoder_decoder.hpp"
#include "model/kv_cache.hpp"
#include "tiny_model.hpp"

using namespace normlab;

namespace {

// Two rows: sources of 5 and 3 ids (S = 5), targets of 4 and 6 positions (T = 6).
struct PairBatch {
  int B = 2, S = 5, T = 6;
  std::vector<int32_t> src, src_len = {5, 3}, tgt_in, tgt_out;
};

PairBatch make_batch(int V, uint32_t seed = 7) {
  PairBatch b;
  std::mt19937 rng(seed);
  const int tgt_len[2] = {4, 6};
  for (int r = 0; r < b.B; ++r) {
    for (int s = 0; s < b.S; ++s) b.src.push_back(static_cast<int32_t>(rng() % V));
    for (int t = 0; t < b.T; ++t) {
      b.tgt_in.push_back(t < tgt_len[r] ? static_cast<int32_t>(rng() % V) : 0);
      b.tgt_out.push_back(t < tgt_len[r] ? static_cast<int32_t>(rng() % V) : -1);
    }
  }
  return b;
}

double loss_of(EncoderDecoder& model, const PairBatch& b, float smoothing = 0.1f) {
  return model.forward(b.src.data(), b.src_len.data(), b.B, b.S, b.tgt_in.data(), b.tgt_out.data(),
                       b.T, smoothing);
}

void check_model(const Config& config, uint64_t dropout_seed = 0) {
  EncoderDecoder model(config);
  model.initialize(11);
  PairBatch batch = make_batch(model.shape().vocab);
  model.plan(batch.B, batch.S, batch.T);
  model.set_dropout_seed(dropout_seed);
  model.params().zero_grads();
  loss_of(model, batch);
  model.backward();
  expect_gradients_match(
      model.params(), [&] { return loss_of(model, batch); },
      config.get_string("placement") + "/" + config.get_string("norm"));
}

class EncDecGrad : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(EncDecGrad, MatchesFiniteDifferences) {
  auto [placement, norm] = GetParam();
  check_model(tiny_encdec_config(placement, norm, 6));
}

INSTANTIATE_TEST_SUITE_P(AllPlacements, EncDecGrad,
                         ::testing::Combine(::testing::ValuesIn(encdec_placements()),
                                            ::testing::Values("layernorm", "rmsnorm", "dyt")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

// nGPT has no encoder-decoder form (the paper and NVIDIA/ngpt are decoder-only): building one
// is a one-line user error, for the preset and for its letters in a custom block; every other
// preset builds.
TEST(EncDecRefusal, LanguageModelOnlyPresetsAndLettersAreRefused) {
  for (const std::string& name : lm_only_placements()) {
    try {
      Model::create(tiny_encdec_config(name, "layernorm", 6));
      ADD_FAILURE() << name << " built an encoder-decoder";
    } catch (const UserError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("arch=lm only"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  Config letters = tiny_encdec_config("custom", "layernorm", 6);
  letters.set("block", "attn:n|da mlp:u|da", "test");
  EXPECT_THROW(Model::create(letters), UserError);
  for (const std::string& name : encdec_placements())
    EXPECT_NO_THROW(Model::create(tiny_encdec_config(name, "layernorm", 6))) << name;
}

TEST(EncDecGrad, DropoutSinusoidsAndCustomCross) {
  Config c = tiny_encdec_config("b2t", "layernorm", 6);
  c.set("dropout", "0.1", "test");
  c.set("positions", "sinusoidal", "test");
  c.set("scale_embedding", "true", "test");
  check_model(c, 99);
  Config custom = tiny_encdec_config("pre", "rmsnorm", 6);
  custom.set("block", "attn:n|da cross:Nq|ndtab mlp:ns|dan", "test");
  check_model(custom);
}

// Padded source positions and ignored target positions must not change anything.
TEST(EncoderDecoder, PaddingIsInvisible) {
  EncoderDecoder model(tiny_encdec_config("post", "layernorm", 6));
  model.initialize(3);
  PairBatch a = make_batch(model.shape().vocab), b = a;
  b.src[1 * b.S + 4] = (b.src[1 * b.S + 4] + 5) % model.shape().vocab;  // row 1 pads at 3, 4
  b.tgt_in[0 * b.T + 5] = 7;                                            // row 0 pads at 4, 5
  model.plan(a.B, a.S, a.T);
  const double la = loss_of(model, a), lb = loss_of(model, b);
  EXPECT_EQ(la, lb);
  // A padded id does matter once unmasked.
  b.src_len[1] = 5;
  EXPECT_NE(la, loss_of(model, b));
}

// decode_step over a KV cache (rows reading different sources, reordered midway) reproduces the
// full forward's logits at every position, for placements with every kind of wiring.
TEST(EncoderDecoder, IncrementalDecodingMatchesFullForward) {
  for (const char* placement :
       {"post", "pre", "b2t", "hybrid", "resi", "lns", "siamese", "completep"}) {
    EncoderDecoder model(tiny_encdec_config(placement, "layernorm", 6));
    model.initialize(5);
    model.training = false;
    PairBatch b = make_batch(model.shape().vocab, 9);
    for (auto& t : b.tgt_out) t = -1;  // logits only
    const int V = model.shape().vocab, T = b.T;
    model.plan(b.B, b.S, b.T);
    // Full forward of both rows; row r's logits at position t.
    b.tgt_in = std::vector<int32_t>(b.B * T);
    for (int i = 0; i < b.B * T; ++i) b.tgt_in[i] = (i * 7 + 3) % V;
    model.forward(b.src.data(), b.src_len.data(), b.B, b.S, b.tgt_in.data(), nullptr, T);
    std::vector<float> full(model.logits(), model.logits() + static_cast<size_t>(b.B) * T * V);

    // Incremental: 3 rows; rows 0 and 2 decode source 1, row 1 source 0. After step 2 the rows
    // are permuted (row 0 <- old 1, row 1 <- old 2, row 2 <- old 0).
    const float* memory = model.encode(b.src.data(), b.src_len.data(), b.B, b.S);
    KVCache cache(model.decoder(), 3, T, V, b.B, b.S);
    model.start_decoding(cache, memory, b.src_len.data(), b.B, b.S);
    cache.row_source = {1, 0, 1};
    std::vector<int> source = {1, 0, 1};
    for (int pos = 0; pos < T; ++pos) {
      if (pos == 3) {
        const int32_t parent[3] = {1, 2, 0};
        cache.reorder(parent, 3);
        source = {source[1], source[2], source[0]};
      }
      int32_t tokens[3];
      for (int r = 0; r < 3; ++r) tokens[r] = b.tgt_in[source[r] * T + pos];
      const float* logits = model.decode_step(tokens, 3, pos, cache);
      for (int r = 0; r < 3; ++r)
        for (int v = 0; v < V; ++v)
          ASSERT_NEAR(logits[r * V + v], full[(static_cast<size_t>(source[r]) * T + pos) * V + v],
                      2e-4)
              << placement << " pos " << pos << " row " << r;
    }
  }
}

TEST(EncoderDecoder, DeepNormConstantsFollowWangEtAl) {
  Config c = tiny_encdec_config("deepnorm", "layernorm", 6);
  c.set("encoder_layers", "6", "test");
  c.set("n_layers", "18", "test");
  const StackDescription enc = describe_stack(c, StackRole::Encoder);
  const StackDescription dec = describe_stack(c, StackRole::Decoder);
  const double nm = std::pow(6.0, 4) * 18;
  EXPECT_NEAR(enc.alpha, 0.81 * std::pow(nm, 1.0 / 16), 1e-5);
  EXPECT_NEAR(enc.init_gain, 0.87 * std::pow(nm, -1.0 / 16), 1e-5);
  EXPECT_NEAR(dec.alpha, std::pow(3.0 * 18, 0.25), 1e-5);
  EXPECT_NEAR(dec.init_gain, std::pow(12.0 * 18, -0.25), 1e-5);
  EXPECT_EQ(enc.layers, 6);
  EXPECT_EQ(dec.layers, 18);
  // B2T's decoder: the block input reaches the MLP's sum; cross-attention is Post-LN's.
  Config b2t = tiny_encdec_config("b2t", "layernorm", 6);
  const StackDescription d = describe_stack(b2t, StackRole::Decoder);
  EXPECT_EQ(d.blocks[0].text(), "attn:|dan cross:|dan mlp:|dabn");
}

}  // namespace

namespace {
// Standard deviation of `n` floats from `w`.
double std_of(const float* w, size_t n) {
  double s = 0, s2 = 0;
  for (size_t k = 0; k < n; ++k) s += w[k], s2 += static_cast<double>(w[k]) * w[k];
  const double m = s / n;
  return std::sqrt(s2 / n - m * m);
}
}  // namespace

// Magneto's init (Wang et al. 2022, "Foundation Transformers"; torchscale subln=True): gamma
// sqrt(log 2L) decoder-only, encoder sqrt(log(3M) log(2N) / 3), decoder sqrt(log 3M); fc1, fc2,
// v and the attention output projections Xavier-normal with gain gamma, q and k with gain 1,
// the decoder's cross-attention unscaled.
TEST(EncoderDecoder, SubLNInitFollowsMagneto) {
  Config c = tiny_encdec_config("subln", "layernorm", 6);
  c.set("encoder_layers", "6", "test");
  c.set("n_layers", "18", "test");
  const double enc_gamma = std::sqrt(std::log(3.0 * 18) * std::log(2.0 * 6) / 3.0);
  const double dec_gamma = std::sqrt(std::log(3.0 * 18));
  EXPECT_NEAR(describe_stack(c, StackRole::Encoder).init_gain, enc_gamma, 1e-5);
  EXPECT_NEAR(describe_stack(c, StackRole::Decoder).init_gain, dec_gamma, 1e-5);
  Config lm = tiny_config("subln", "layernorm", 6);
  lm.set("n_layers", "12", "test");
  EXPECT_NEAR(describe_stack(lm).init_gain, std::sqrt(std::log(24.0)), 1e-5);

  // The weights themselves, at a width where a std is measured to ~1%.
  Config w = tiny_encdec_config("subln", "layernorm", 6);
  w.set("d_model", "128", "test");
  w.set("d_ff", "256", "test");
  EncoderDecoder model(w);
  model.initialize(3);
  ParamStore& p = model.params();
  const double M = 3, N = 2, d = 128, ff = 256;
  const double g_dec = std::sqrt(std::log(3 * M)),
               g_enc = std::sqrt(std::log(3 * M) * std::log(2 * N) / 3);
  auto std_part = [&](const std::string& name, int part, int parts) {
    const ParamEntry* e = p.find(name);
    EXPECT_NE(e, nullptr) << name;
    const size_t n = e->numel / parts;
    return std_of(p.value(p.index_of(name)) + part * n, n);
  };
  const double xavier_dd = std::sqrt(2.0 / (2 * d)), xavier_ff = std::sqrt(2.0 / (d + ff));
  auto expect_std = [&](const std::string& name, int part, int parts, double want) {
    EXPECT_NEAR(std_part(name, part, parts), want, 0.03 * want) << name << " part " << part;
  };
  const std::vector<std::pair<std::string, double>> stacks = {{"decoder.", g_dec},
                                                              {"encoder.", g_enc}};
  for (const auto& [stack, g] : stacks) {
    const std::string b = stack + "blocks.1.";
    expect_std(b + "attn.qkv.weight", 0, 3, xavier_dd);      // q: gain 1
    expect_std(b + "attn.qkv.weight", 1, 3, xavier_dd);      // k: gain 1
    expect_std(b + "attn.qkv.weight", 2, 3, g * xavier_dd);  // v
    expect_std(b + "attn.proj.weight", 0, 1, g * xavier_dd);
    expect_std(b + "mlp.fc1.weight", 0, 1, g * xavier_ff);
    expect_std(b + "mlp.fc2.weight", 0, 1, g * xavier_ff);
  }
  // torchscale skips the decoder's encoder_attn parameters.
  expect_std("decoder.blocks.1.cross.kv.weight", 1, 2, xavier_dd);
  expect_std("decoder.blocks.1.cross.proj.weight", 0, 1, xavier_dd);
  // The letters: Sub-LN's inner norms in self-attention and the MLP, none in cross-attention.
  EXPECT_EQ(describe_stack(w, StackRole::Decoder).blocks[0].text(),
            "attn:ni|da cross:n|da mlp:ni|da");
  EXPECT_EQ(p.find("decoder.blocks.0.mlp.inner_norm.weight")->shape[0], 256);
  EXPECT_EQ(p.find("decoder.blocks.0.cross.inner_norm.weight"), nullptr);
}
