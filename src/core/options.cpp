#include "core/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/placement_presets.hpp"

namespace normlab {

namespace {

// The "allowed" column of the table: gt(0) is > 0, ge(0) is >= 0, ge_lt(0, 1) is [0, 1), ...
Allowed gt(double lo) {
  return {Range{lo, Range{}.hi, false, true}, {}};
}
Allowed ge(double lo) {
  return {Range{lo, Range{}.hi, true, true}, {}};
}
Allowed ge_le(double lo, double hi) {
  return {Range{lo, hi, true, true}, {}};
}
Allowed ge_lt(double lo, double hi) {
  return {Range{lo, hi, true, false}, {}};
}
Allowed gt_le(double lo, double hi) {
  return {Range{lo, hi, false, true}, {}};
}
Allowed one_of(std::vector<std::string> choices) {
  return {Range{}, std::move(choices)};
}
const Allowed any_value{};

std::vector<OptionSpec> make_options() {
  using enum OptionType;
  // One option per entry: key, type, default, group, allowed values, then its documentation.
  // clang-format off
  return {
    // key               type    default  group        allowed
    // ---- model: shape
    {"vocab_size",      Int,    "4096",  "model",     ge_le(2, 1 << 24),
        "Vocabulary size; set by the tokenizer when training from a prepared corpus."},
    {"d_model",         Int,    "256",   "model",     ge_le(1, 1 << 16),
        "Width of the residual stream."},
    {"n_heads",         Int,    "4",     "model",     ge_le(1, 1 << 12),
        "Attention heads; must divide d_model."},
    {"arch",            String, "lm",    "model",     one_of({"lm", "encdec"}),
        "Model: a decoder-only language model, or a Transformer encoder-decoder for translation "
        "and summarization (docs/encoder-decoder.md)."},
    {"n_layers",        Int,    "6",     "model",     ge_le(1, 10000),
        "Number of blocks L (with arch=encdec: of the decoder, M)."},
    {"encoder_layers",  Int,    "6",     "model",     ge_le(1, 10000),
        "Encoder blocks N (arch=encdec only). Each stack resolves its placement, dt and Mix-LN "
        "split with its own depth."},
    {"d_ff",            Int,    "1024",  "model",     ge_le(1, 1 << 20),
        "Hidden width of the MLP."},
    {"seq_len",         Int,    "128",   "model",     ge_le(1, 1 << 16),
        "Context length T (training sequence length)."},
    {"positions",       String, "learned", "model",     one_of({"learned", "sinusoidal"}),
        "Position embedding: a learned table, or fixed sinusoids (Vaswani et al. 2017)."},
    // ---- model: placement
    {"placement",       String, "pre",   "model",     one_of(placement_names()),
        "Where normalization sits: a preset that stands for the values of block, lower_block, "
        "lower_fraction, final_norm, residual_alpha, completep_alpha and init (core/placement_presets.cpp; "
        "equations in docs/placements.md); values set by hand win, and --dump-config shows "
        "them written out. 'sandwich' is an alias of 'peri'. 'custom' takes 'block' as given. "
        "'ngpt' (arch=lm only) keeps its matrices' embedding-dimension vectors unit after every "
        "optimizer step; the paper trains it without weight decay or warmup, normlab applies the "
        "weight_decay and warmup you set (docs/placements.md)."},
    {"block",           String, "",      "model",     any_value,
        "Block description, e.g. 'attn:n|da mlp:n|da' (pre). Before '|': what F sees (n norm, s "
        "scale by 1/sqrt(l), N norm the stream itself, D add the normalised dual stream "
        "(SiameseNorm); q changes F itself: per-head q/k/v norms inside attention; Q norms on "
        "attention's whole q and k projections; u puts F on nGPT's hypersphere; i a norm on the "
        "input of F's output projection, Sub-LN); after: steps on "
        "F's output (n norm, d dropout, t tee into the dual stream (ResiDual, SiameseNorm), s "
        "scale by 1/sqrt(2l), a residual alpha*x + dt*F, or h nGPT's normalised step with its "
        "eigen learning rate, or w Admin's alpha*omega*x + dt*F, b add the block's input (B2T), n after 'a' is a post-norm). Letters: src/model/block_ops.cpp. Or one per layer range: '0-3: post, 4-: pre' "
        "(0-based, A-B, A- or A; a block description or a placement's name each; "
        "docs/placements.md). A block other than the placement's implies placement=custom."},
    {"lower_block",     String, "",      "model",     any_value,
        "Block description for the lowest floor(lower_fraction * L) blocks (Mix-LN uses post): "
        "the per-layer list '0-(k-1): lower_block, k-: block'."},
    {"lower_fraction",  Float,  "0.25",  "model",     ge_le(0, 1),
        "Fraction of blocks, from the bottom, that use lower_block (Mix-LN's alpha; Li et al. "
        "2024)."},
    {"final_norm",      String, "auto",  "model",     one_of({"auto", "true", "false"}),
        "Norm after the last block: auto (as the placement's preset), true or false."},
    {"norm",            String, "layernorm", "model",     one_of({"layernorm", "rmsnorm", "dyt"}),
        "Normalization function N."},
    {"norm_eps",        Float,  "1e-5",  "model",     gt(0),
        "Epsilon inside LayerNorm and RMSNorm."},
    {"dyt_alpha",       Float,  "0.5",   "model",     gt(0),
        "Initial alpha of DyT (Zhu et al. 2025)."},
    {"dt",              String, "1",     "model",     any_value,
        "Residual step: x + dt*F(x) (Kan et al. 2025). A number, '1/L' or '1/sqrt(L)'."},
    {"residual_alpha",  String, "auto",  "model",     any_value,
        "Weight of the shortcut, alpha*x + F(x): auto (as the placement's preset), a number, or "
        "deepnorm (Wang et al. 2022: (2L)^(1/4) decoder-only; encoder 0.81 (N^4 M)^(1/16), "
        "decoder (3M)^(1/4))."},
    {"completep_alpha", String, "auto",  "model",     any_value,
        "Depth parametrisation (Dey et al. 2025, CompleteP): auto (as the placement's preset: 1 "
        "for completep, off for every other), off, or alpha in [0.5, 1]. With "
        "m_L = L / completep_base_depth, every residual branch is scaled by m_L^-alpha (times dt) "
        "and AdamW's learning rate of every tensor inside the blocks by m_L^(alpha-1), its "
        "epsilon by m_L^-alpha; embeddings and the final norm keep lr and adam_eps. 1 is "
        "CompleteP, 0.5 depth-muP (Yang et al. 2024). --dump-config shows the resolved values "
        "(docs/placements.md)."},
    {"completep_base_depth", Int, "2",   "model",     ge_le(1, 10000),
        "L_base of completep_alpha: the depth at which lr and adam_eps are the tuned base values; "
        "sweeping n_layers with it fixed keeps them (2, the smallest depth of the paper's "
        "sweeps)."},
    // ---- model: initialisation
    {"init",            String, "auto",  "model",     one_of({"auto", "xavier", "gpt2", "small", "tfixup", "deepnorm", "subln"}),
        "Initialisation: xavier (fairseq), gpt2 (N(0,0.02), residual outputs / sqrt(2L)), small "
        "(Spike No More: std sqrt(2/(5d)), outputs / sqrt(2L)), tfixup (Huang et al. 2020), "
        "deepnorm (Xavier-normal, gain beta=(8L)^(-1/4) on v, out, fc1, fc2), subln (Magneto: "
        "the same with gain sqrt(log 2L), cross-attention unscaled). auto: as the placement's "
        "preset."},
    {"rescale_init",    Bool,   "false", "model",     any_value,
        "B2T's rescaling: every block weight matrix multiplied by L^(-1/2) (Takase et al.)."},
    {"scale_embedding", Bool,   "false", "model",     any_value,
        "Multiply token embeddings by sqrt(d_model) (fairseq; 'Spike No More')."},
    {"dropout",         Float,  "0",     "model",     ge_lt(0, 1),
        "Dropout on every sublayer output and the embedding."},
    // ---- data
    {"data",            String, "",      "data",      any_value,
        "Prepared corpus directory (output of 'normlab prepare')."},
    // ---- prepare (and prepare-parallel): building a corpus
    {"input",           String, "",      "prepare",   any_value,
        "Text files for 'prepare', comma-separated (default: the bundled fortunes corpus)."},
    {"tokenizer_type",  String, "bpe",   "prepare",   one_of({"bpe", "unigram"}),
        "SentencePiece model type (formerly 'tokenizer', still read in config files)."},
    {"valid_fraction",  Float,  "0.05",  "prepare",   ge_lt(0, 1),
        "Share of documents (prepare-parallel: sentence pairs) held out for validation."},
    // ---- run: where a command writes, and how it shows progress
    {"out_dir",         String, "",      "run",       any_value,
        "Output directory of 'prepare', 'prepare-parallel', 'train' or 'sweep'."},
    {"progress",        Bool,   "true",  "run",       any_value,
        "Progress bar on stderr when it is a terminal (fitted to its width; validation lines "
        "stay above it); without one, or with progress false, a plain line every log_every "
        "steps."},
    // ---- train
    {"seed",            Int,    "1",     "train",     ge(0),
        "Seed for initialisation, batches, dropout and sampling."},
    {"threads",         Int,    "0",     "train",     ge_le(0, 4096),
        "OpenMP threads of each rank (0: all cores, shared among the MPI ranks on a host)."},
    {"precision",       String, "auto",  "train",     one_of({"auto", "bf16", "fp32"}),
        "Matmul precision: bf16 rounds the inputs of every dense product to bfloat16 and "
        "accumulates in f32; weights, gradients, optimizer state, norms, softmax and loss stay "
        "f32. auto: bf16 where oneDNN has bf16 kernels on this CPU (AVX512_BF16 or AMX, checked "
        "at run time), else fp32 with a note. bf16 on a CPU without them is emulated (same "
        "numerics, slower). 'grad' always uses fp32 (docs/performance.md). Checkpoints record "
        "the precision a run trained with; --resume and sweep refuse to let auto change it "
        "(docs/reliability.md)."},
    {"batch_size",      Int,    "16",    "train",     ge(1),
        "Sequences per micro-batch."},
    {"batch_tokens",    Int,    "4096",  "train",     ge(1),
        "arch=encdec: token budget of a batch (fairseq's --max-tokens): sentence pairs of similar "
        "length are packed so that rows x longest source and rows x longest target stay within "
        "it."},
    {"label_smoothing", String, "auto",  "train",     any_value,
        "Label smoothing eps of the training loss (Szegedy et al. 2016): 'auto' is 0.1 for "
        "arch=encdec (fairseq's translation recipe) and 0 for the language model."},
    {"grad_accum",      Int,    "1",     "train",     ge(1),
        "Micro-batches accumulated per optimizer step; under mpirun they are divided among the ranks, "
        "so the step is the same whatever the rank count (docs/distributed.md)."},
    {"steps",           Int,    "1000",  "train",     ge(1),             "Optimizer steps."},
    {"eval_every",      Int,    "100",   "train",     ge(0),
        "Validation loss and perplexity every N steps."},
    {"eval_batches",    Int,    "8",     "train",     ge(1),
        "Validation micro-batches per evaluation."},
    {"save_every",      Int,    "500",   "train",     ge(1),
        "Checkpoint every N steps (and at the end)."},
    {"keep_last",       Int,    "1",     "train",     ge(1),
        "Saved states kept: the newest is always checkpoint.safetensors; above 1, the newest N "
        "are also kept as checkpoints/step-S.safetensors (docs/safetensors.md)."},
    {"log_every",       Int,    "10",    "train",     ge(1),
        "Metrics line every N steps."},
    // ---- stability instruments (docs/diagnostics.md)
    {"diag_every",      Int,    "100",   "train",     ge(0),
        "Per-layer diagnostics every N steps (and always at step 0 and the last step; 0: only "
        "those two)."},
    {"spike_k",         Float,  "6",     "train",     gt(0),
        "A loss spike: loss above the running mean by spike_k running standard deviations."},
    {"spike_window",    Int,    "50",    "train",     ge(2),
        "Window (steps) of the running loss statistics."},
    {"diverge_loss",    Float,  "100",   "train",     gt(0),
        "The run has diverged when the loss exceeds this bound or anything is NaN/Inf."},
    {"skip_outliers",   Bool,   "false", "train",     any_value,
        "Skip (do not apply) a step whose loss or gradient norm has a z-score above outlier_z "
        "over the window; skipped steps are counted."},
    {"outlier_z",       Float,  "6",     "train",     gt(0),
        "z-score threshold of skip_outliers."},
    // ---- optimizer (train, sweep, sanity-check; grad takes AdamW and clipping)
    {"lr",              Float,  "1e-3",  "optimizer", gt(0),             "Peak learning rate."},
    {"schedule",        String, "inverse_sqrt", "optimizer", one_of({"inverse_sqrt", "cosine", "constant"}),
        "Learning-rate schedule after linear warmup: inverse_sqrt (fairseq), cosine (to min_lr), "
        "constant."},
    {"warmup",          Int,    "100",   "optimizer", ge(0),             "Linear warmup steps."},
    {"min_lr",          Float,  "0",     "optimizer", ge(0),
        "Floor of the cosine schedule."},
    {"beta1",           Float,  "0.9",   "optimizer", ge_lt(0, 1),       "AdamW beta1."},
    {"beta2",           Float,  "0.98",  "optimizer", ge_lt(0, 1),
        "AdamW beta2 (0.98 as the B2T recipe)."},
    {"adam_eps",        Float,  "1e-8",  "optimizer", gt(0),             "AdamW epsilon."},
    {"weight_decay",    Float,  "0",     "optimizer", ge(0),
        "Decoupled weight decay, applied to weight matrices only."},
    {"decay_all",       Bool,   "false", "optimizer", any_value,
        "Also decay norms, biases and embeddings."},
    {"clip_norm",       Float,  "1.0",   "optimizer", ge(0),
        "Global gradient-norm clipping (0: off)."},
    // ---- sweep: grid axes, each a comma-separated list of values of one option (docs/sweep.md)
    {"placements",      String, "",      "sweep",     any_value,
        "Sweep axis: values of 'placement', comma-separated."},
    {"norms",           String, "",      "sweep",     any_value,
        "Sweep axis: values of 'norm', comma-separated."},
    {"depths",          String, "",      "sweep",     any_value,
        "Depths L, comma-separated: the sweep's 'n_layers' axis, and the depths 'sanity-check' "
        "builds (its default 2,4,8,16,32,64)."},
    {"lrs",             String, "",      "sweep",     any_value,
        "Sweep axis: values of 'lr', comma-separated."},
    {"dts",             String, "",      "sweep",     any_value,
        "Sweep axis: values of 'dt', comma-separated."},
    {"seeds",           String, "",      "sweep",     any_value,
        "Sweep axis: values of 'seed' (a list of seeds, not a count), comma-separated."},
    {"ranks_per_run",   Int,    "1",     "sweep",     ge_le(1, 1 << 20),
        "MPI ranks that train each cell of a sweep together, data-parallel; the ranks of "
        "'mpirun -np N' (N a multiple of it) form N / ranks_per_run groups that take the cells as "
        "they become free (docs/distributed.md)."},
    // ---- sanity-check (docs/sanity-check.md)
    {"sanity_steps",    Int,    "200",   "sanity",    ge_le(0, 1000000),
        "Steps of the short trial at each depth, the trainer's own step with this config's "
        "optimizer, lr and schedule, the warmup compressed by sanity_steps/steps (0: measure "
        "the initialisation only)."},
    {"sanity_batch_size", Int,  "2",     "sanity",    ge_le(1, 1000000),
        "Sequences per micro-batch of the trial and of its measurements: smaller than the run's "
        "batch, so that the trial takes many steps for little compute (Adam's steps are "
        "normalised: progress goes by steps more than by tokens)."},
    {"sanity_seeds",    Int,    "1",     "sanity",    ge_le(1, 1000),
        "Number of initialisations (seeds seed, seed+1, ...) averaged in the measurement at "
        "initialisation."},
    {"sanity_batches",  Int,    "4",     "sanity",    ge_le(1, 1000),
        "Measurement batches per model."},
    // ---- grad (the checking interface, docs/model.md)
    {"adamw_steps",     Int,    "0",     "grad",      ge_le(0, 1000000),
        "AdamW steps on the batch (constant lr) before the final gradient."},
    // ---- generate
    {"max_tokens",      Int,    "100",   "generate",  ge(0),             "Tokens to generate."},
    {"temperature",     Float,  "1.0",   "generate",  ge(0),
        "Sampling temperature (0: greedy)."},
    {"top_k",           Int,    "0",     "generate",  ge(0),
        "Sample from the k most likely tokens (0: all)."},
    {"top_p",           Float,  "1.0",   "generate",  gt_le(0, 1),
        "Nucleus sampling mass (1: off)."},
    // ---- translate (decode/beam_search.hpp has the exact semantics, fairseq's)
    {"beam",            Int,    "5",     "translate", ge(1),
        "Beam size (1: greedy search)."},
    {"length_penalty",  Float,  "1.0",   "translate", any_value,
        "Finished hypotheses are ranked by score / length^length_penalty (0: raw score)."},
    {"max_len_a",       Float,  "1.5",   "translate", ge(0),
        "Output length limit a * source length + max_len_b (tokens before EOS)."},
    {"max_len_b",       Int,    "10",    "translate", ge(0),             "See max_len_a."},
    {"batch_sentences", Int,    "32",    "translate", ge(1),
        "Sources decoded together (sorted by length; output keeps the input order)."},
  };
  // clang-format on
}

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string underscored(std::string s) {
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

std::string number_text(double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

}  // namespace

bool Range::bounded() const {
  return std::isfinite(lo) || std::isfinite(hi);
}

bool Range::contains(double v) const {
  return (lo_inclusive ? v >= lo : v > lo) && (hi_inclusive ? v <= hi : v < hi);
}

std::string Range::text() const {
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (has_lo && has_hi)
    return std::string(lo_inclusive ? "[" : "(") + number_text(lo) + ", " + number_text(hi) +
           (hi_inclusive ? "]" : ")");
  if (has_lo) return (lo_inclusive ? ">= " : "> ") + number_text(lo);
  if (has_hi) return (hi_inclusive ? "<= " : "< ") + number_text(hi);
  return "";
}

OptionSpec::OptionSpec(std::string key_, OptionType type_, std::string default_value_,
                       std::string group_, Allowed allowed, std::string help_)
    : key(std::move(key_)),
      type(type_),
      default_value(std::move(default_value_)),
      group(std::move(group_)),
      range(allowed.range),
      choices(std::move(allowed.choices)),
      help(std::move(help_)) {}

const std::vector<OptionSpec>& all_options() {
  static const std::vector<OptionSpec> options = make_options();
  return options;
}

const OptionSpec* find_option(const std::string& key) {
  for (const auto& o : all_options())
    if (o.key == key) return &o;
  return nullptr;
}

const std::string& current_option_key(const std::string& key) {
  // old key -> new key
  static const std::vector<std::pair<std::string, std::string>> renamed = {
      {"tokenizer", "tokenizer_type"}};
  for (const auto& [old_key, new_key] : renamed)
    if (key == old_key) return new_key;
  return key;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& vocabulary) {
  const std::string w = underscored(word);
  const std::string* best = nullptr;
  size_t best_d = 0;
  for (const auto& v : vocabulary) {
    const size_t d = edit_distance(w, underscored(v));
    if (!best || d < best_d) best = &v, best_d = d;
  }
  return best && best_d <= std::max<size_t>(2, w.size() / 3) ? *best : "";
}

}  // namespace normlab
