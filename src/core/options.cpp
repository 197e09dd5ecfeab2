#include "core/options.hpp"

namespace normlab {

namespace {
using T = OptionType;
std::vector<OptionSpec> make_options() {
  return {
      // ---- model: shape
      {"vocab_size",
       T::Int,
       "4096",
       "model",
       "Vocabulary size; set by the tokenizer when training from a prepared corpus.",
       {}},
      {"d_model", T::Int, "256", "model", "Width of the residual stream.", {}},
      {"n_heads", T::Int, "4", "model", "Attention heads; must divide d_model.", {}},
      {"n_layers", T::Int, "6", "model", "Number of blocks L.", {}},
      {"d_ff", T::Int, "1024", "model", "Hidden width of the MLP.", {}},
      {"seq_len", T::Int, "128", "model", "Context length T (training sequence length).", {}},
      {"positions",
       T::String,
       "learned",
       "model",
       "Position embedding: a learned table, or fixed sinusoids (Vaswani et al. 2017).",
       {"learned", "sinusoidal"}},
      // ---- model: placement
      {"placement",
       T::String,
       "pre",
       "model",
       "Where normalization sits; a preset of the block description (docs/model.md). "
       "'sandwich' is an alias of 'peri'. 'custom' takes 'block' as given.",
       {"post", "pre", "peri", "sandwich", "b2t", "deepnorm", "mixln", "lns", "hybrid", "resi",
        "none", "custom"}},
      {"block",
       T::String,
       "",
       "model",
       "Block description, e.g. 'attn:n|da mlp:n|da' (pre). Before '|': what F sees "
       "(n norm, s scale by 1/sqrt(l), N norm the stream itself, q per-head q/k/v norm); after: "
       "steps on F's output (n norm, d dropout, r add to the dual stream, a residual "
       "alpha*x + dt*F, b add the block's input (B2T), n after 'a' is a post-norm). Setting it "
       "implies placement=custom.",
       {}},
      {"lower_block",
       T::String,
       "",
       "model",
       "Block description for the lowest floor(lower_fraction * L) blocks (Mix-LN uses post).",
       {}},
      {"lower_fraction",
       T::Float,
       "0.25",
       "model",
       "Fraction of blocks, from the bottom, that use lower_block (Mix-LN's alpha; Li et al. "
       "2024).",
       {}},
      {"final_norm",
       T::String,
       "auto",
       "model",
       "Norm after the last block: auto (as the placement's source), true or false.",
       {"auto", "true", "false"}},
      {"norm",
       T::String,
       "layernorm",
       "model",
       "Normalization function N.",
       {"layernorm", "rmsnorm", "dyt"}},
      {"norm_eps", T::Float, "1e-5", "model", "Epsilon inside LayerNorm and RMSNorm.", {}},
      {"dyt_alpha", T::Float, "0.5", "model", "Initial alpha of DyT (Zhu et al. 2025).", {}},
      {"dt",
       T::String,
       "1",
       "model",
       "Residual step: x + dt*F(x) (Kan et al. 2025). A number, '1/L' or '1/sqrt(L)'.",
       {}},
      {"residual_alpha",
       T::String,
       "auto",
       "model",
       "Weight of the shortcut, alpha*x + F(x): auto ((2L)^(1/4) for deepnorm, else 1) or a "
       "number.",
       {}},
      // ---- model: initialisation
      {"init",
       T::String,
       "auto",
       "model",
       "Initialisation: xavier (fairseq), gpt2 (N(0,0.02), residual outputs / sqrt(2L)), "
       "small (Spike No More: std sqrt(2/(5d)), outputs / sqrt(2L)), tfixup (Huang et al. 2020), "
       "deepnorm (Xavier-normal, gain beta=(8L)^(-1/4) on v, out, fc1, fc2). auto: deepnorm for "
       "the deepnorm placement, tfixup for none, else xavier.",
       {"auto", "xavier", "gpt2", "small", "tfixup", "deepnorm"}},
      {"rescale_init",
       T::Bool,
       "false",
       "model",
       "B2T's rescaling: every block weight matrix multiplied by L^(-1/2) (Takase et al.).",
       {}},
      {"scale_embedding",
       T::Bool,
       "false",
       "model",
       "Multiply token embeddings by sqrt(d_model) (fairseq; 'Spike No More').",
       {}},
      {"dropout",
       T::Float,
       "0",
       "model",
       "Dropout on every sublayer output and the embedding.",
       {}},
      // ---- data
      {"data",
       T::String,
       "",
       "data",
       "Prepared corpus directory (output of 'normlab prepare').",
       {}},
      {"input",
       T::String,
       "",
       "data",
       "Text files for 'prepare', comma-separated (default: the bundled fortunes corpus).",
       {}},
      {"out_dir", T::String, "", "run", "Output directory of 'prepare' or 'train'.", {}},
      {"tokenizer", T::String, "bpe", "data", "SentencePiece model type.", {"bpe", "unigram"}},
      {"valid_fraction",
       T::Float,
       "0.05",
       "data",
       "Share of documents held out for validation by 'prepare'.",
       {}},
      // ---- train
      {"seed", T::Int, "1", "train", "Seed for initialisation, batches, dropout and sampling.", {}},
      {"threads", T::Int, "0", "train", "OpenMP threads (0: all cores).", {}},
      {"batch_size", T::Int, "16", "train", "Sequences per micro-batch.", {}},
      {"grad_accum", T::Int, "1", "train", "Micro-batches accumulated per optimizer step.", {}},
      {"steps", T::Int, "1000", "train", "Optimizer steps.", {}},
      {"lr", T::Float, "1e-3", "train", "Peak learning rate.", {}},
      {"schedule",
       T::String,
       "inverse_sqrt",
       "train",
       "Learning-rate schedule after linear warmup: inverse_sqrt (fairseq), cosine (to "
       "min_lr), constant.",
       {"inverse_sqrt", "cosine", "constant"}},
      {"warmup", T::Int, "100", "train", "Linear warmup steps.", {}},
      {"min_lr", T::Float, "0", "train", "Floor of the cosine schedule.", {}},
      {"beta1", T::Float, "0.9", "train", "AdamW beta1.", {}},
      {"beta2", T::Float, "0.98", "train", "AdamW beta2 (0.98 as the B2T recipe).", {}},
      {"adam_eps", T::Float, "1e-8", "train", "AdamW epsilon.", {}},
      {"weight_decay",
       T::Float,
       "0",
       "train",
       "Decoupled weight decay, applied to weight matrices only.",
       {}},
      {"decay_all", T::Bool, "false", "train", "Also decay norms, biases and embeddings.", {}},
      {"clip_norm", T::Float, "1.0", "train", "Global gradient-norm clipping (0: off).", {}},
      {"eval_every", T::Int, "100", "train", "Validation loss and perplexity every N steps.", {}},
      {"eval_batches", T::Int, "8", "train", "Validation micro-batches per evaluation.", {}},
      {"save_every", T::Int, "500", "train", "Checkpoint every N steps (and at the end).", {}},
      {"log_every", T::Int, "10", "train", "Metrics line every N steps.", {}},
      // ---- stability instruments (docs/diagnostics.md)
      {"diag_every",
       T::Int,
       "100",
       "train",
       "Per-layer diagnostics every N steps (and always at step 0 and the last step; 0: only "
       "those two).",
       {}},
      {"spike_k",
       T::Float,
       "6",
       "train",
       "A loss spike: loss above the running mean by spike_k running standard deviations.",
       {}},
      {"spike_window", T::Int, "50", "train", "Window (steps) of the running loss statistics.", {}},
      {"diverge_loss",
       T::Float,
       "100",
       "train",
       "The run has diverged when the loss exceeds this bound or anything is NaN/Inf.",
       {}},
      {"skip_outliers",
       T::Bool,
       "false",
       "train",
       "Skip (do not apply) a step whose loss or gradient norm has a z-score above outlier_z "
       "over the window; skipped steps are counted.",
       {}},
      {"outlier_z", T::Float, "6", "train", "z-score threshold of skip_outliers.", {}},
      {"progress", T::Bool, "true", "run", "Progress bar on stderr when it is a terminal.", {}},
      // ---- generate
      {"max_tokens", T::Int, "100", "generate", "Tokens to generate.", {}},
      {"temperature", T::Float, "1.0", "generate", "Sampling temperature (0: greedy).", {}},
      {"top_k", T::Int, "0", "generate", "Sample from the k most likely tokens (0: all).", {}},
      {"top_p", T::Float, "1.0", "generate", "Nucleus sampling mass (1: off).", {}},
  };
}
}  // namespace

const std::vector<OptionSpec>& all_options() {
  static const std::vector<OptionSpec> options = make_options();
  return options;
}

const OptionSpec* find_option(const std::string& key) {
  for (const auto& o : all_options())
    if (o.key == key) return &o;
  return nullptr;
}

}  // namespace normlab
