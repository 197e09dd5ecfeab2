"""normlab's models as PyTorch modules: `normlab.torch.load(checkpoint)`.

Written from the equations of docs/model.md (decoder-only LM, every placement and norm, dt,
residual alpha) and docs/encoder-decoder.md (arch: encdec). Parameter names are the checkpoint's,
so a normlab checkpoint loads with strict matching and `named_parameters()` lines up with the
gradients of `normlab grad`. The parity test (tests/python/test_torch_module.py) checks loss and
every gradient against the C++ engine for every placement.

    import normlab.torch
    model = normlab.torch.load("runs/x/checkpoint.safetensors").double()
    loss = model(inputs, targets)                   # LM: [B, T] int64 each
    loss = model(src, src_len, tgt_in, tgt_out)     # encoder-decoder
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torch import nn

from . import safetensors

# docs/model.md, "Placement presets": block description and whether a final norm follows.
PRESETS = {
    "post": ("attn:|dan mlp:|dan", False),
    "pre": ("attn:n|da mlp:n|da", True),
    "peri": ("attn:n|nda mlp:n|nda", True),
    "sandwich": ("attn:n|nda mlp:n|nda", True),
    "b2t": ("attn:|dan mlp:|dabn", False),
    "deepnorm": ("attn:|dan mlp:|dan", False),
    "mixln": ("attn:n|da mlp:n|da", True),
    "lns": ("attn:ns|da mlp:ns|da", True),
    "hybrid": ("attn:q|da mlp:N|da", True),
    "resi": ("attn:|dtan mlp:|dtan", False),
    "none": ("attn:|da mlp:|da", False),
    "olmo2": ("attn:Q|nda mlp:|nda", True),
    "siamese": ("attn:NDn|dtsa mlp:NDn|dtsa", True),
    "completep": ("attn:n|da mlp:n|da", True),
    "subln": ("attn:ni|da cross:n|da mlp:ni|da", True),
    "admin": ("attn:|dwn mlp:|dwn", False),
}
MIXLN_LOWER_BLOCK = "attn:|dan mlp:|dan"  # Mix-LN's lower blocks are Post-LN
# Placements this module does not build, with the reason (a clear refusal rather than a module
# that would compute something else): nGPT's hypersphere (its letters 'u' and 'h', the weight
# projection after every optimizer step and the logit scale s_z, docs/placements.md).
REFUSED = {"ngpt": "nGPT's hypersphere sublayers ('u', 'h') are not implemented in "
                   "normlab.torch; use the engine (normlab train / grad)"}


class Recipe:
    """One sublayer's "PRE|POST". `pre` is a set of letters (their order is fixed by meaning:
    N on the stream, then D, n, s; q and Q inside attention, i before F's output projection).
    `post` lists the steps in order, with
    an 'n' before 'a' spelled "norm_out" and one after 'a' spelled "norm_post" (the residual
    is 'a', or Admin's 'w', whose shortcut weight omega is a parameter)."""

    def __init__(self, text):
        if text.count("|") != 1:
            raise ValueError(f"block description part '{text}': expected PRE|POST")
        pre, post = text.split("|")
        self.pre = set(pre)
        if set("uh") & set(text):
            raise ValueError(f"normlab.torch: block description part '{text}': "
                             + REFUSED["ngpt"])
        if not self.pre <= set("NDnsqQi"):
            raise ValueError(f"block description part '{text}': unknown letter before '|'")
        self.post, seen_a = [], False
        for c in post:
            if c == "n":
                self.post.append("norm_post" if seen_a else "norm_out")
            elif c in "dtsabw":
                self.post.append(c)
                seen_a = seen_a or c in "aw"
            else:
                raise ValueError(f"block description part '{text}': unknown letter '{c}'")
        if not seen_a:
            raise ValueError(f"block description part '{text}': missing the residual 'a'")


def parse_block(text):
    """'attn:PRE|POST [cross:PRE|POST] mlp:PRE|POST' -> {'attn': Recipe, 'cross': Recipe or
    None, 'mlp': Recipe}."""
    parts = dict(p.split(":", 1) for p in text.split())
    return {k: Recipe(parts[k]) if k in parts else None for k in ("attn", "cross", "mlp")}


def completep_alpha(config, placement):
    """completep_alpha: a number, or off (None); a config naming only the preset `completep`
    means alpha 1."""
    alpha = str(config.get("completep_alpha", "off"))
    if alpha != "off":
        return float(alpha)
    return 1.0 if placement == "completep" else None


def parse_dt(text, layers):
    if text == "1/L":
        return 1.0 / layers
    if text == "1/sqrt(L)":
        return 1.0 / math.sqrt(layers)
    return float(text)


class StackSpec:
    """The wiring of one stack resolved from the config (docs/model.md; docs/encoder-decoder.md
    for each stack's own depth and DeepNorm's encoder-decoder constants). role: 'lm', 'encoder'
    or 'decoder'."""

    def __init__(self, config, role):
        M = int(config["n_layers"])
        N = int(config["encoder_layers"]) if role != "lm" else 0
        self.layers = L = N if role == "encoder" else M
        placement, block = config["placement"], config.get("block", "")
        lower = config.get("lower_block", "")
        if block:
            placement = "custom"
        preset_final = True  # a custom block: final_norm auto means true
        if placement != "custom":
            block, preset_final = PRESETS[placement]
            if placement == "mixln" and not lower:
                lower = MIXLN_LOWER_BLOCK
        upper = parse_block(block)
        n_lower = math.floor(float(config["lower_fraction"]) * L + 1e-9) if lower else 0
        lower = parse_block(lower) if lower else None
        self.blocks = [lower if i < n_lower else upper for i in range(L)]
        for b in self.blocks:  # a decoder's cross-attention follows self-attention unless given
            if b["cross"] is None:
                b["cross"] = b["attn"]
        kinds = ("attn", "cross", "mlp") if role == "decoder" else ("attn", "mlp")
        self.kinds = kinds
        # A second stream (ResiDual's t, SiameseNorm's D); SiameseNorm's output normalises both.
        self.siamese = any("D" in b[k].pre for b in self.blocks for k in kinds)
        self.dual = self.siamese or any("t" in b[k].post for b in self.blocks for k in kinds)
        fn = config["final_norm"]
        self.final_norm = ((preset_final if fn == "auto" else fn == "true")
                           and (self.siamese or not self.dual))
        # CompleteP (Dey et al. 2025): every residual branch times m_L^-alpha, m_L = L / L_base
        # (its lr and eps multipliers are the optimizer's: optimizer_groups).
        self.lr_scale, self.eps_scale = 1.0, 1.0
        self.dt = parse_dt(str(config["dt"]), L)
        alpha = completep_alpha(config, placement)
        if alpha is not None:
            m = L / float(config.get("completep_base_depth", 2))
            self.dt *= m ** -alpha
            self.lr_scale, self.eps_scale = m ** (alpha - 1.0), m ** -alpha
        # normlab writes a placement out in its checkpoints (residual_alpha: deepnorm, a number);
        # `auto` is a config that names only the preset.
        alpha = str(config["residual_alpha"])
        if alpha == "auto":
            alpha = "deepnorm" if placement == "deepnorm" else "1"
        if alpha != "deepnorm":
            self.alpha = float(alpha)
        elif role == "lm":  # Wang et al. 2022: (2L)^(1/4); encoder-decoder: 0.81 (N^4 M)^(1/16)
            self.alpha = (2.0 * L) ** 0.25
        elif role == "encoder":
            self.alpha = 0.81 * (N ** 4 * M) ** (1 / 16)
        else:  # decoder: (3M)^(1/4)
            self.alpha = (3.0 * M) ** 0.25


# ---- norms (docs/model.md, "Norms"; eps = norm_eps) ----
class LayerNorm(nn.Module):
    """g (a - mean) / sqrt(var + eps) + b, biased variance."""

    def __init__(self, n, eps):
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(n)), nn.Parameter(torch.zeros(n)), eps

    def forward(self, a):
        mean = a.mean(-1, keepdim=True)
        var = ((a - mean) ** 2).mean(-1, keepdim=True)
        return self.weight * (a - mean) / torch.sqrt(var + self.eps) + self.bias


class RMSNorm(nn.Module):
    """g a / sqrt(mean(a^2) + eps)."""

    def __init__(self, n, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(n)), eps

    def forward(self, a):
        return self.weight * a / torch.sqrt((a * a).mean(-1, keepdim=True) + self.eps)


class DyT(nn.Module):
    """Dynamic Tanh (Zhu et al. 2025): g tanh(alpha a) + b."""

    def __init__(self, n, alpha0):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), float(alpha0)))
        self.weight, self.bias = nn.Parameter(torch.ones(n)), nn.Parameter(torch.zeros(n))

    def forward(self, a):
        return self.weight * torch.tanh(self.alpha * a) + self.bias


def make_norm(config, n):
    kind = config["norm"]
    if kind == "layernorm":
        return LayerNorm(n, float(config["norm_eps"]))
    if kind == "rmsnorm":
        return RMSNorm(n, float(config["norm_eps"]))
    if kind == "dyt":
        return DyT(n, float(config["dyt_alpha"]))
    raise ValueError(f"unknown norm '{kind}'")


# ---- sublayers ----
def attend(q, k, v, n_heads, mask, qkv_norms):
    """Multi-head attention: q [B, T, d], k and v [B, S, d], heads contiguous in d; mask
    broadcastable to [B, H, T, S] (True where allowed). With HybridNorm's 'q' each head's q, k, v
    are normalised over its hd features. Returns o [B, T, d] before the output projection."""
    B, T, d = q.shape
    S, hd = k.shape[1], d // n_heads
    q, k, v = (a.reshape(B, -1, n_heads, hd) for a in (q, k, v))
    if qkv_norms is not None:
        q, k, v = (norm(a) for norm, a in zip(qkv_norms, (q, k, v)))
    q, k, v = (a.transpose(1, 2) for a in (q, k, v))  # [B, H, *, hd]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
    p = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return (p @ v).transpose(1, 2).reshape(B, T, d)


class Sublayer(nn.Module):
    """x -> x' around F following a recipe (docs/model.md's loop body). Subclasses define the
    linear maps and F(u, context)."""

    def __init__(self, recipe, config, is_attention):
        super().__init__()
        self.recipe = recipe
        d = int(config["d_model"])
        if "N" in recipe.pre:
            self.norm_stream = make_norm(config, d)
        if "D" in recipe.pre:  # SiameseNorm: the dual stream read back
            self.norm_dual = make_norm(config, d)
        if "n" in recipe.pre:
            self.norm_in = make_norm(config, d)
        if "q" in recipe.pre and is_attention:
            hd = d // int(config["n_heads"])
            self.q_norm, self.k_norm, self.v_norm = (make_norm(config, hd) for _ in range(3))
        if "Q" in recipe.pre and is_attention:  # OLMo-2: the whole q and k projections
            self.q_proj_norm, self.k_proj_norm = make_norm(config, d), make_norm(config, d)
        if "i" in recipe.pre:  # Sub-LN: on the input of the output projection (d, or d_ff)
            self.inner_norm = make_norm(config, d if is_attention else int(config["d_ff"]))
        if "norm_out" in recipe.post:
            self.norm_out = make_norm(config, d)
        if "norm_post" in recipe.post:
            self.norm_post = make_norm(config, d)
        if "w" in recipe.post:  # Admin's shortcut weight, set by normlab's profiling pass
            self.omega = nn.Parameter(torch.ones(d))
        self.dropout = float(config["dropout"])

    def projection_norms(self, q, k):
        if "Q" in self.recipe.pre:
            return self.q_proj_norm(q), self.k_proj_norm(k)
        return q, k

    def inner(self, h):
        return self.inner_norm(h) if "i" in self.recipe.pre else h

    def qkv_norms(self):
        return (self.q_norm, self.k_norm, self.v_norm) if "q" in self.recipe.pre else None

    def forward(self, x, xb, dual, l, spec, context):
        pre = self.recipe.pre
        if "N" in pre:
            x = self.norm_stream(x)
        # SiameseNorm (Li et al. 2026): F reads N_in(x_hat + N_pre(y)), y the dual stream
        base = x + self.norm_dual(dual) if "D" in pre else x
        u = self.norm_in(base) if "n" in pre else base
        if "s" in pre:  # LayerNorm Scaling: 1/sqrt(l), l the 1-based depth
            u = u / math.sqrt(l)
        y = self.sublayer(u, context)
        for step in self.recipe.post:
            if step == "norm_out":
                y = self.norm_out(y)
            elif step == "d":
                y = F.dropout(y, self.dropout, self.training)
            elif step == "t":  # tee into the dual stream (ResiDual, SiameseNorm)
                dual = dual + y
            elif step == "s":  # SiameseNorm's branch scale 1/sqrt(2l)
                y = y / math.sqrt(2 * l)
            elif step == "a":
                y = spec.alpha * x + spec.dt * y
            elif step == "w":  # Admin (Liu et al. 2020): x <- alpha omega x + dt y
                y = spec.alpha * self.omega * x + spec.dt * y
            elif step == "b":
                y = y + xb
            elif step == "norm_post":
                y = self.norm_post(y)
        return y, dual


class SelfAttention(Sublayer):
    def __init__(self, recipe, config):
        super().__init__(recipe, config, True)
        d = int(config["d_model"])
        self.n_heads = int(config["n_heads"])
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def sublayer(self, u, context):
        q, k, v = self.qkv(u).chunk(3, dim=-1)
        q, k = self.projection_norms(q, k)
        o = attend(q, k, v, self.n_heads, context["self_mask"], self.qkv_norms())
        return self.proj(self.inner(o))


class CrossAttention(Sublayer):
    """q from the decoder stream, k and v from the encoder's output m (docs/encoder-decoder.md)."""

    def __init__(self, recipe, config):
        super().__init__(recipe, config, True)
        d = int(config["d_model"])
        self.n_heads = int(config["n_heads"])
        self.q, self.kv, self.proj = nn.Linear(d, d), nn.Linear(d, 2 * d), nn.Linear(d, d)

    def sublayer(self, u, context):
        k, v = self.kv(context["memory"]).chunk(2, dim=-1)
        q, k = self.projection_norms(self.q(u), k)
        o = attend(q, k, v, self.n_heads, context["cross_mask"], self.qkv_norms())
        return self.proj(self.inner(o))


class MLP(Sublayer):
    """fc2(gelu(fc1(u))), GELU in its tanh approximation."""

    def __init__(self, recipe, config):
        super().__init__(recipe, config, False)
        d, d_ff = int(config["d_model"]), int(config["d_ff"])
        self.fc1, self.fc2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)

    def sublayer(self, u, context):
        return self.fc2(self.inner(F.gelu(self.fc1(u), approximate="tanh")))


_SUBLAYERS = {"attn": SelfAttention, "cross": CrossAttention, "mlp": MLP}


class Block(nn.Module):
    def __init__(self, recipes, kinds, config):
        super().__init__()
        self.kinds = kinds
        for kind in kinds:
            setattr(self, kind, _SUBLAYERS[kind](recipes[kind], config))

    def forward(self, x, dual, l, spec, context):
        xb = x
        for kind in self.kinds:
            x, dual = getattr(self, kind)(x, xb, dual, l, spec, context)
        return x, dual


def sinusoids(T, d):
    """Vaswani et al. 2017 in fairseq's layout: row t is [sin(t w_i) for i < d/2, cos(t w_i)
    for i < d/2] with w_i = exp(-i log(10000) / (d/2 - 1)), a zero last column for odd d."""
    half = d // 2
    step = math.log(10000.0) / (half - 1) if half > 1 else 0.0
    w = torch.exp(-step * torch.arange(half, dtype=torch.float64))
    angle = torch.arange(T, dtype=torch.float64)[:, None] * w[None, :]
    table = torch.zeros(T, d, dtype=torch.float64)
    table[:, :half], table[:, half:2 * half] = torch.sin(angle), torch.cos(angle)
    return table.float()


class Stack(nn.Module):
    """Positions, L blocks, then the final norm, ResiDual's output x_L + N(d_L) or SiameseNorm's
    [N_final](N_top(x_L) + N_resi(d_L))."""

    def __init__(self, config, role):
        super().__init__()
        self.spec = StackSpec(config, role)
        d, T = int(config["d_model"]), int(config["seq_len"])
        if config["positions"] == "learned":
            self.pos_emb = nn.Embedding(T, d)
        else:
            self.register_buffer("sinusoids", sinusoids(T, d), persistent=False)
        self.blocks = nn.ModuleList(Block(b, self.spec.kinds, config) for b in self.spec.blocks)
        if self.spec.final_norm:
            self.final_norm = make_norm(config, d)
        if self.spec.dual:
            self.resi_norm = make_norm(config, d)
        if self.spec.siamese:
            self.top_norm = make_norm(config, d)
        self.dropout = float(config["dropout"])

    def run(self, emb, context):
        T = emb.shape[1]
        pos = self.pos_emb.weight[:T] if hasattr(self, "pos_emb") else self.sinusoids[:T]
        x = F.dropout(emb + pos.to(emb.dtype), self.dropout, self.training)
        dual = x
        for i, block in enumerate(self.blocks):
            x, dual = block(x, dual, i + 1, self.spec, context)
        if self.spec.siamese:
            x = self.top_norm(x) + self.resi_norm(dual)
        elif self.spec.dual:
            return x + self.resi_norm(dual)
        return self.final_norm(x) if self.spec.final_norm else x


def label_smoothed_cross_entropy(logits, targets, eps):
    """Mean over targets >= 0 of (1 - eps)(-log p[y]) + eps mean_v(-log p_v)."""
    logp = torch.log_softmax(logits, dim=-1)
    valid = targets >= 0
    nll = -logp.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    per_token = (1 - eps) * nll - eps * logp.mean(-1) if eps else nll
    return per_token[valid].mean()


def resolve_label_smoothing(config, label_smoothing):
    value = config.get("label_smoothing", "auto") if label_smoothing is None else label_smoothing
    if value == "auto":  # docs/options.md: 0.1 for arch=encdec, 0 for the language model
        return 0.1 if config["arch"] == "encdec" else 0.0
    return float(value)


class DecoderLM(Stack):
    """logits = h tok_emb^T with x_0 = s tok_emb[tokens] + pos (docs/model.md)."""

    def __init__(self, config):
        super().__init__(config, "lm")
        self.config = config
        d = int(config["d_model"])
        self.tok_emb = nn.Embedding(int(config["vocab_size"]), d)
        self.scale = math.sqrt(d) if config["scale_embedding"] else 1.0

    def logits(self, inputs):
        T = inputs.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=inputs.device).tril()
        h = self.run(self.scale * self.tok_emb(inputs), {"self_mask": causal})
        return h @ self.tok_emb.weight.t()

    def forward(self, inputs, targets=None, label_smoothing=None):
        """Logits [B, T, V], or with targets the mean cross-entropy (label smoothing as the
        config's, 'auto' being 0 for the LM)."""
        logits = self.logits(inputs)
        if targets is None:
            return logits
        eps = resolve_label_smoothing(self.config, label_smoothing)
        return label_smoothed_cross_entropy(logits, targets, eps)


class EncoderDecoder(nn.Module):
    """docs/encoder-decoder.md: one embedding for source, target and output."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        d = int(config["d_model"])
        self.tok_emb = nn.Embedding(int(config["vocab_size"]), d)
        self.scale = math.sqrt(d) if config["scale_embedding"] else 1.0
        self.encoder, self.decoder = Stack(config, "encoder"), Stack(config, "decoder")

    def logits(self, src, src_len, tgt_in):
        S, T = src.shape[1], tgt_in.shape[1]
        real = torch.arange(S, device=src.device)[None, :] < src_len[:, None]  # [B, S]
        keys = real[:, None, None, :]  # padded source keys are masked
        memory = self.encoder.run(self.scale * self.tok_emb(src), {"self_mask": keys})
        causal = torch.ones(T, T, dtype=torch.bool, device=src.device).tril()
        context = {"self_mask": causal, "memory": memory, "cross_mask": keys}
        h = self.decoder.run(self.scale * self.tok_emb(tgt_in), context)
        return h @ self.tok_emb.weight.t()

    def forward(self, src, src_len, tgt_in, tgt_out=None, label_smoothing=None):
        """Logits, or with tgt_out the label-smoothed loss over targets >= 0 ('auto': 0.1)."""
        logits = self.logits(src, src_len, tgt_in)
        if tgt_out is None:
            return logits
        eps = resolve_label_smoothing(self.config, label_smoothing)
        return label_smoothed_cross_entropy(logits, tgt_out, eps)


def optimizer_groups(model, lr, adam_eps, weight_decay=0.0, decay_all=False):
    """torch.optim.AdamW param groups that take normlab's AdamW steps (src/train/optimizer.hpp):
    weight decay on the blocks' weight matrices only unless decay_all, and with completep_alpha
    every tensor inside a stack's blocks at lr x m_L^(alpha-1) and eps x m_L^-alpha, the rest
    at lr and adam_eps (docs/placements.md, "CompleteP"). Give betas=(beta1, beta2) to AdamW."""
    stacks = ({"": model} if isinstance(model, DecoderLM)
              else {"encoder.": model.encoder, "decoder.": model.decoder})
    groups = {}
    for name, p in model.named_parameters():
        spec = next((s.spec for prefix, s in stacks.items()
                     if name.startswith(prefix + "blocks.")), None)
        lr_scale, eps_scale = (spec.lr_scale, spec.eps_scale) if spec else (1.0, 1.0)
        wd = weight_decay if decay_all or (spec is not None and p.dim() == 2) else 0.0
        groups.setdefault((wd, lr * lr_scale, adam_eps * eps_scale), []).append(p)
    return [{"params": ps, "weight_decay": wd, "lr": g_lr, "eps": g_eps}
            for (wd, g_lr, g_eps), ps in groups.items()]


def from_config(config):
    """An (uninitialised) module for a normlab config dict (the checkpoint's normlab.config).
    Raises ValueError for a placement in REFUSED."""
    if config.get("placement") in REFUSED:
        raise ValueError(f"normlab.torch: placement '{config['placement']}': "
                         + REFUSED[config["placement"]])
    return EncoderDecoder(config) if config.get("arch", "lm") == "encdec" else DecoderLM(config)


def load(path):
    """The module of a normlab checkpoint, its parameters loaded with strict name matching, in
    eval mode (no dropout). Admin's omega are parameters of the checkpoint: the module does not
    run the profiling pass, so a checkpoint whose omega were never profiled (no
    normlab.shortcut_profile, as `normlab init` writes) is refused. `path` is a .safetensors file
    or a run directory (its checkpoint.safetensors), as for the CLI."""
    if os.path.isdir(path):
        path = os.path.join(path, "checkpoint.safetensors")
    tensors, metadata = safetensors.read(path)
    config = json.loads(metadata["normlab.config"])
    if (any(k.endswith(".omega") for k in tensors)
            and "normlab.shortcut_profile" not in metadata):
        raise ValueError(f"normlab.torch: {path}: Admin's shortcut weights (omega) were never "
                         "profiled (no normlab.shortcut_profile); train it with normlab first")
    model = from_config(config)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    return model.eval()
