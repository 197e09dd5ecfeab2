"""Independent PyTorch oracle for normlab's models (docs/model.md is the contract): the
decoder-only LM (Model) and the Transformer encoder-decoder (EncDecModel, `arch: encdec`).

Written directly from each placement's published update rule (docs/placements.md cites the
papers), one block class per placement, NOT by interpreting the C++ block-description letters,
so that a misreading on either side shows up as a parity failure.

Parameters live in a plain dict name -> tensor under normlab's checkpoint names; everything is
functional so that torch.autograd.gradcheck can differentiate with respect to every tensor.
"""
import json
import math

import numpy as np
import torch
import torch.nn.functional as F

try:  # imported as a package module or as a script sibling
    from . import safetensors_io
except ImportError:  # pragma: no cover
    import safetensors_io

# Defaults of the options the model reads (src/core/options.cpp).
DEFAULTS = {
    "vocab_size": 4096, "d_model": 256, "n_heads": 4, "n_layers": 6, "d_ff": 1024,
    "seq_len": 128, "positions": "learned", "placement": "pre", "block": "",
    "lower_block": "", "lower_fraction": 0.25, "final_norm": "auto", "norm": "layernorm",
    "norm_eps": 1e-5, "dyt_alpha": 0.5, "dt": "1", "residual_alpha": "auto",
    "completep_alpha": "auto", "completep_base_depth": 2,
    "scale_embedding": False, "dropout": 0.0, "arch": "lm", "encoder_layers": 6,
    "beta1": 0.9, "beta2": 0.98, "adam_eps": 1e-8,
    "weight_decay": 0.0, "decay_all": False, "clip_norm": 1.0, "lr": 1e-3,
}

# Whether the placement's source applies a norm after the stack (docs/model.md table).
FINAL_NORM_AUTO = {
    "post": False, "pre": True, "peri": True, "sandwich": True, "b2t": False,
    "deepnorm": False, "mixln": True, "lns": True, "hybrid": True, "resi": False,
    "none": False, "olmo2": True, "siamese": True, "ngpt": False, "completep": True,
    "subln": True, "admin": False,
}


# --------------------------------------------------------------------------- config helpers
def full_config(cfg):
    out = dict(DEFAULTS)
    out.update(cfg)
    if out["placement"] == "sandwich":
        out["placement"] = "peri"
    return out


def parse_dt(text, n_layers):
    """'1', '0.1', '1/L', '1/sqrt(L)' (Kan et al. 2025's residual step)."""
    t = str(text).replace(" ", "")
    if t == "1/L":
        return 1.0 / n_layers
    if t == "1/sqrt(L)":
        return 1.0 / math.sqrt(n_layers)
    return float(t)


def residual_alpha(cfg):
    a = str(cfg["residual_alpha"]).strip()
    if a == "auto":
        # DeepNet (Wang et al. 2022), decoder-only: alpha = (2L)^(1/4).
        return (2.0 * cfg["n_layers"]) ** 0.25 if cfg["placement"] == "deepnorm" else 1.0
    return float(a)


def completep_alpha(cfg):
    """CompleteP's alpha (Dey et al. 2025, arXiv 2505.01618): a number given by the config, None
    for "off", and for "auto" 1 with the placement `completep` (the paper's choice; 0.5 is
    depth-muP), None with any other."""
    a = str(cfg.get("completep_alpha", "auto")).strip()
    if a == "off":
        return None
    if a == "auto":
        return 1.0 if cfg["placement"] == "completep" else None
    return float(a)


def completep_scales(cfg, L):
    """The paper's Table 1 along depth, for a stack of L blocks with m_L = L / L_base (width
    multiplier 1): (residual-branch multiplier m_L^-alpha, hidden AdamW lr multiplier
    m_L^(alpha-1), hidden Adam eps multiplier m_L^-alpha); (1, 1, 1) when off."""
    alpha = completep_alpha(cfg)
    if alpha is None:
        return 1.0, 1.0, 1.0
    m = L / float(cfg["completep_base_depth"])
    return m ** -alpha, m ** (alpha - 1.0), m ** -alpha


def has_final_norm(cfg):
    fn = cfg["final_norm"]
    if isinstance(fn, bool):
        return fn
    fn = str(fn)
    if fn == "auto":
        if cfg["placement"] not in FINAL_NORM_AUTO:
            raise ValueError(f"final_norm auto is undefined for placement {cfg['placement']}")
        return FINAL_NORM_AUTO[cfg["placement"]]
    return fn == "true"


def sinusoidal_table(T, d, dtype=torch.float64):
    """fairseq's sinusoids: sin(t w_i) for i < d/2 then cos(t w_i), w_i = 10000^(-i/(d/2-1))."""
    half = d // 2
    i = torch.arange(half, dtype=torch.float64)
    w = torch.exp(-math.log(10000.0) * i / (half - 1))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * w[None, :]
    tab = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    if d % 2:
        tab = torch.cat([tab, torch.zeros(T, 1, dtype=torch.float64)], dim=1)
    return tab.to(dtype)


# --------------------------------------------------------------------------- normalisations
def norm_param_shapes(kind, width):
    if kind == "layernorm":
        return {"weight": [width], "bias": [width]}
    if kind == "rmsnorm":
        return {"weight": [width]}
    if kind == "dyt":
        return {"alpha": [1], "weight": [width], "bias": [width]}
    raise ValueError(f"unknown norm {kind}")


def apply_norm(kind, p, prefix, a, eps):
    """Normalises over the last axis. LayerNorm (Ba et al. 2016, biased variance), RMSNorm
    (Zhang & Sennrich 2019), DyT (Zhu et al. 2025): g*tanh(alpha a) + b."""
    g = p[prefix + ".weight"]
    if kind == "layernorm":
        mu = a.mean(-1, keepdim=True)
        var = ((a - mu) ** 2).mean(-1, keepdim=True)
        return g * (a - mu) / torch.sqrt(var + eps) + p[prefix + ".bias"]
    if kind == "rmsnorm":
        return g * a / torch.sqrt((a * a).mean(-1, keepdim=True) + eps)
    if kind == "dyt":
        return g * torch.tanh(p[prefix + ".alpha"] * a) + p[prefix + ".bias"]
    raise ValueError(f"unknown norm {kind}")


# --------------------------------------------------------------------------- sublayers
def linear(p, prefix, u):
    return u @ p[prefix + ".weight"].t() + p[prefix + ".bias"]


def heads_attend(p, prefix, q, k, v, cfg, qkv_norm, causal, key_mask, sub_norm=False):
    """Scaled dot-product attention of q [B, Tq, d] over k, v [B, Tk, d], head h at columns
    h*hd..(h+1)*hd. With qkv_norm (HybridNorm, Zhuo et al. 2025) each head's q, k and v are
    normalised over the head dimension by a gain shared by the heads. causal hides key j > i;
    key_mask [B, Tk] (True = real token) hides padded keys. Returns o Wproj^T + bproj, or with
    sub_norm (Sub-LN, Wang et al. 2022) LN(o) Wproj^T + bproj, o the concatenated heads."""
    B, Tq, d = q.shape
    Tk = k.shape[1]
    H = cfg["n_heads"]
    hd = d // H
    q = q.reshape(B, Tq, H, hd).transpose(1, 2)  # [B, H, Tq, hd]
    k = k.reshape(B, Tk, H, hd).transpose(1, 2)
    v = v.reshape(B, Tk, H, hd).transpose(1, 2)
    if qkv_norm:
        kind, eps = cfg["norm"], cfg["norm_eps"]
        q = apply_norm(kind, p, prefix + ".q_norm", q, eps)
        k = apply_norm(kind, p, prefix + ".k_norm", k, eps)
        v = apply_norm(kind, p, prefix + ".v_norm", v, eps)
    s = q @ k.transpose(-1, -2) / math.sqrt(hd)
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(Tq, Tk, dtype=torch.bool), diagonal=1),
                          float("-inf"))
    if key_mask is not None:
        s = s.masked_fill(~key_mask[:, None, None, :], float("-inf"))
    o = torch.softmax(s, dim=-1) @ v  # [B, H, Tq, hd]
    o = o.transpose(1, 2).reshape(B, Tq, d)
    if sub_norm:
        o = apply_norm(cfg["norm"], p, prefix + ".inner_norm", o, cfg["norm_eps"])
    return linear(p, prefix + ".proj", o)


def projection_norms(p, prefix, q, k, cfg):
    """OLMo-2's QK-norm (OLMo et al. 2025, arXiv 2501.00656; HF Olmo2Attention): the whole q and
    k projections, all heads at once (width d), normalised before the split into heads."""
    kind, eps = cfg["norm"], cfg["norm_eps"]
    return (apply_norm(kind, p, prefix + ".q_proj_norm", q, eps),
            apply_norm(kind, p, prefix + ".k_proj_norm", k, eps))


def attention(p, prefix, u, cfg, qkv_norm=False, causal=True, key_mask=None, qk_proj_norm=False,
              sub_norm=False):
    """Multi-head self-attention (causal in a decoder, key-padding-masked in an encoder)."""
    d = u.shape[-1]
    qkv = linear(p, prefix + ".qkv", u)
    q, k, v = qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]
    if qk_proj_norm:
        q, k = projection_norms(p, prefix, q, k, cfg)
    return heads_attend(p, prefix, q, k, v, cfg, qkv_norm, causal, key_mask, sub_norm)


def cross_attention(p, prefix, u, memory, memory_mask, cfg, qkv_norm=False, qk_proj_norm=False):
    """Encoder-decoder attention (Vaswani et al. 2017): queries from the decoder stream u,
    keys and values from the encoder output `memory`, padded source positions hidden."""
    d = u.shape[-1]
    q = linear(p, prefix + ".q", u)
    kv = linear(p, prefix + ".kv", memory)
    k, v = kv[..., :d], kv[..., d:]
    if qk_proj_norm:
        q, k = projection_norms(p, prefix, q, k, cfg)
    return heads_attend(p, prefix, q, k, v, cfg, qkv_norm, False, memory_mask)


def mlp(p, prefix, u, cfg=None, sub_norm=False):
    """fc2(gelu(fc1(u))); with sub_norm (Sub-LN, Wang et al. 2022) fc2(LN(gelu(fc1(u)))), the
    norm over d_ff."""
    h = F.gelu(linear(p, prefix + ".fc1", u), approximate="tanh")
    if sub_norm:
        h = apply_norm(cfg["norm"], p, prefix + ".inner_norm", h, cfg["norm_eps"])
    return linear(p, prefix + ".fc2", h)


# --------------------------------------------------------------------------- blocks
class Block:
    """One block l (1-based) of a stack of depth L. Subclasses implement one placement's
    equations. A decoder-only LM block has sublayers (attn, mlp); an encoder block the same with
    non-causal self-attention; an encoder-decoder's decoder block (attn, cross, mlp).

    Placements whose rule is stated per sublayer (docs/placements.md) implement update(); B2T,
    whose rule is stated per block, overrides forward()."""

    def __init__(self, index, cfg, prefix="blocks.", depth=None, alpha=None, causal=True,
                 cross=False):
        self.i = index  # 0-based, for names
        self.l = index + 1
        self.cfg = cfg
        self.L = cfg["n_layers"] if depth is None else depth
        self.dt = parse_dt(cfg["dt"], self.L)
        self.alpha = residual_alpha(cfg) if alpha is None else alpha
        self.pre = f"{prefix}{index}."
        self.causal = causal
        self.cross = cross
        # Set by the encoder-decoder for one forward: "self_mask" (encoder key padding),
        # "memory" and "memory_mask" (decoder cross-attention).
        self.ctx = {}

    def sublayers(self):
        return ("attn", "cross", "mlp") if self.cross else ("attn", "mlp")

    def N(self, p, name, a):
        return apply_norm(self.cfg["norm"], p, self.pre + name, a, self.cfg["norm_eps"])

    def A(self, p, u, qkv_norm=False, qk_proj_norm=False):
        return attention(p, self.pre + "attn", u, self.cfg, qkv_norm, self.causal,
                         self.ctx.get("self_mask"), qk_proj_norm)

    def C(self, p, u, qkv_norm=False, qk_proj_norm=False):
        return cross_attention(p, self.pre + "cross", u, self.ctx["memory"],
                               self.ctx["memory_mask"], self.cfg, qkv_norm, qk_proj_norm)

    def M(self, p, u):
        return mlp(p, self.pre + "mlp", u)

    def F(self, s, p, u, qkv_norm=False):
        if s == "attn":
            return self.A(p, u, qkv_norm)
        if s == "cross":
            return self.C(p, u, qkv_norm)
        return self.M(p, u)

    def forward(self, p, x, state):
        for s in self.sublayers():
            x = self.update(s, p, x, state)
        return x

    def update(self, s, p, x, state):
        raise NotImplementedError

    def sublayer_norms(self, s):
        return []

    def sublayer_params(self, s):
        """Parameters of sublayer s other than its norms and F's weights: (name, width)."""
        return []

    def norms(self):
        """Names (after the block prefix) of the norms this block owns, with their width."""
        return [n for s in self.sublayers() for n in self.sublayer_norms(s)]


class PostBlock(Block):
    """Post-LN (Vaswani et al. 2017): x <- N(alpha x + dt F(x))."""

    def update(self, s, p, x, state):
        return self.N(p, f"{s}.norm_post", self.alpha * x + self.dt * self.F(s, p, x))

    def sublayer_norms(self, s):
        return [(f"{s}.norm_post", "d")]


class DeepNormBlock(PostBlock):
    """DeepNet (Wang et al. 2022): x <- N(alpha x + F(x)); the difference from Post-LN is alpha
    (decoder-only (2L)^(1/4); encoder-decoder see encdec_residual_alpha) and the init, which is
    normlab's business."""


class PreBlock(Block):
    """Pre-LN (Xiong et al. 2020): x <- alpha x + dt F(N(x))."""

    def update(self, s, p, x, state):
        return self.alpha * x + self.dt * self.F(s, p, self.N(p, f"{s}.norm_in", x))

    def sublayer_norms(self, s):
        return [(f"{s}.norm_in", "d")]


class PeriBlock(Block):
    """Peri-LN (Kim et al. 2025) / Sandwich-LN: x <- alpha x + dt N_out(F(N_in(x)))."""

    def update(self, s, p, x, state):
        y = self.N(p, f"{s}.norm_out", self.F(s, p, self.N(p, f"{s}.norm_in", x)))
        return self.alpha * x + self.dt * y

    def sublayer_norms(self, s):
        return [(f"{s}.norm_in", "d"), (f"{s}.norm_out", "d")]


class B2TBlock(Block):
    """B2T connection (Takase et al. 2023), Post-LN with the block input added to the last
    residual sum. Decoder-only / encoder: h = N1(x + A(x)), y = N2(M(h) + h + x). Encoder-decoder
    decoder: h1 = N1(x + A(x)), h2 = N2(h1 + C(h1, m)), y = N3(M(h2) + h2 + x)."""

    def forward(self, p, x, state):
        xb = x
        subs = self.sublayers()
        for s in subs[:-1]:
            x = self.N(p, f"{s}.norm_post", self.alpha * x + self.dt * self.F(s, p, x))
        s = subs[-1]
        return self.N(p, f"{s}.norm_post", self.alpha * x + self.dt * self.F(s, p, x) + xb)

    def sublayer_norms(self, s):
        return [(f"{s}.norm_post", "d")]


class LNSBlock(Block):
    """LayerNorm Scaling (Sun et al. 2025): x <- x + dt F(N(x) / sqrt(l)), l the block's index
    in its own stack."""

    def update(self, s, p, x, state):
        u = self.N(p, f"{s}.norm_in", x) / math.sqrt(self.l)
        return self.alpha * x + self.dt * self.F(s, p, u)

    def sublayer_norms(self, s):
        return [(f"{s}.norm_in", "d")]


class HybridBlock(Block):
    """HybridNorm (Zhuo et al. 2025): Y = X + A(N(XWq), N(XWk), N(XWv)) with per-head norms
    (the cross-attention likewise, its k and v from the encoder output); X' = N(Y) + M(N(Y))."""

    def update(self, s, p, x, state):
        if s == "mlp":
            z = self.N(p, "mlp.norm_stream", x)
            return self.alpha * z + self.dt * self.M(p, z)
        return self.alpha * x + self.dt * self.F(s, p, x, qkv_norm=True)

    def sublayer_norms(self, s):
        if s == "mlp":
            return [("mlp.norm_stream", "d")]
        return [(f"{s}.{z}_norm", "hd") for z in "qkv"]


class ResiDualBlock(Block):
    """ResiDual (Xie et al. 2023): x_{k+1} = N(x_k + F(x_k)), d_{k+1} = d_k + F(x_k), for every
    sublayer k of the stack."""

    def update(self, s, p, x, state):
        f = self.F(s, p, x)
        state["dual"] = state["dual"] + f
        return self.N(p, f"{s}.norm_post", self.alpha * x + self.dt * f)

    def sublayer_norms(self, s):
        return [(f"{s}.norm_post", "d")]


class OLMo2Block(Block):
    """OLMo-2 (OLMo et al. 2025, "2 OLMo 2 Furious", arXiv 2501.00656; HF Olmo2DecoderLayer):
    the norm moved from the sublayer's input to its output, x <- x + dt N(F(x)), with attention's
    whole q and k projections normalised before the head split (q = N_q(u Wq), k = N_k(u Wk); in
    cross-attention k comes from the encoder output). v is not normalised."""

    def update(self, s, p, x, state):
        if s == "attn":
            f = self.A(p, x, qk_proj_norm=True)
        elif s == "cross":
            f = self.C(p, x, qk_proj_norm=True)
        else:
            f = self.M(p, x)
        return self.alpha * x + self.dt * self.N(p, f"{s}.norm_out", f)

    def sublayer_norms(self, s):
        qk = [] if s == "mlp" else [(f"{s}.q_proj_norm", "d"), (f"{s}.k_proj_norm", "d")]
        return qk + [(f"{s}.norm_out", "d")]


class SiameseBlock(Block):
    """SiameseNorm (Li et al. 2026, arXiv 2602.08064; official code Qwen-Applications/SiameseNorm,
    its DeiT and OLMo blocks): two streams with shared sublayers, the post-norm-like x and the
    pre-norm-like y, per sublayer
        x_hat = N_post(x);  z = F(N_in(x_hat + N_pre(y)));  x <- x_hat + z / sqrt(2l);  y <- y + z
    with l the 1-based block (the same for all its sublayers), y_0 = x_0, and the stack's output
    N_final(N_x(x_L) + N_y(y_L)) (see Stack.forward). The shortcut weight and residual step of the
    other blocks apply to the x update as alpha x_hat + dt z / sqrt(2l) (1 and 1 by default)."""

    def update(self, s, p, x, state):
        x_hat = self.N(p, f"{s}.norm_stream", x)
        y = state["dual"]
        z = self.F(s, p, self.N(p, f"{s}.norm_in", x_hat + self.N(p, f"{s}.norm_dual", y)))
        state["dual"] = y + z
        return self.alpha * x_hat + self.dt * z / math.sqrt(2 * self.l)

    def sublayer_norms(self, s):
        return [(f"{s}.norm_stream", "d"), (f"{s}.norm_dual", "d"), (f"{s}.norm_in", "d")]


def unit(a):
    """nGPT's Norm: a / ||a||_2 over the last axis, no epsilon (the paper's eq. 1 footnote; the
    official code's justnorm)."""
    return a / a.norm(dim=-1, keepdim=True)


class NGPTBlock(Block):
    """nGPT (Loshchilov, Hsieh, Sun, Ginsburg 2024, "nGPT: Normalized Transformer with
    Representation Learning on the Hypersphere", arXiv 2410.01131), decoder-only. Every hidden
    state lives on the unit sphere; each sublayer moves it by its eigen learning rate (eq. 10-11)
        h <- Norm(h + alpha (Norm(F(h)) - h)),   alpha = |alpha_stored (alpha_init / alpha_scale)|
    with alpha_init = 0.05 and alpha_scale = 1/sqrt(d) (section 2.6), h itself normalised first as
    the official code does. Attention (eq. 15-16): no biases, q and k unit per head and multiplied
    by s_qk = s_qk_stored * 1/(1/sqrt(d)), softmax(q k^T sqrt(d_k)) in place of / sqrt(d_k). MLP
    (eq. 20-21) in normlab's GELU form (its one MLP for every placement; the paper's is SwiGLU):
    GELU((h W1^T) s_v sqrt(d)) W2^T, s_v = s_v_stored * 1/1, the scale on the nonlinearity's input
    that the paper calls s_v. Positions are normlab's (added to the embedding), not RoPE."""

    def __init__(self, index, cfg, **kw):
        if kw.get("cross") or not kw.get("causal", True):
            raise ValueError("nGPT is a decoder-only design: no encoder-decoder form")
        super().__init__(index, cfg, **kw)

    def param_shapes(self, d, ff):
        pre = self.pre
        return {pre + "attn.qkv.weight": [3 * d, d], pre + "attn.proj.weight": [d, d],
                pre + "attn.s_qk": [d], pre + "attn.alpha": [d],
                pre + "mlp.fc1.weight": [ff, d], pre + "mlp.fc2.weight": [d, ff],
                pre + "mlp.s_v": [ff], pre + "mlp.alpha": [d]}

    def attend(self, p, h):
        pre = self.pre + "attn"
        B, T, d = h.shape
        H = self.cfg["n_heads"]
        hd = d // H
        W = p[pre + ".qkv.weight"]
        q, k, v = (h @ W[i * d:(i + 1) * d].t() for i in range(3))
        s_qk = (p[pre + ".s_qk"] * math.sqrt(d)).reshape(H, hd)
        q = s_qk * unit(q.reshape(B, T, H, hd))
        k = s_qk * unit(k.reshape(B, T, H, hd))
        v = v.reshape(B, T, H, hd)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, H, T, hd]
        s = q @ k.transpose(-1, -2) * math.sqrt(hd)
        s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1),
                          float("-inf"))
        o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, d)
        return o @ p[pre + ".proj.weight"].t()

    def mlp(self, p, h):
        pre = self.pre + "mlp"
        d = h.shape[-1]
        hidden = (h @ p[pre + ".fc1.weight"].t()) * (p[pre + ".s_v"] * math.sqrt(d))
        return F.gelu(hidden, approximate="tanh") @ p[pre + ".fc2.weight"].t()

    def step(self, p, s, h, y):
        d = h.shape[-1]
        alpha = torch.abs(p[f"{self.pre}{s}.alpha"] * (0.05 * math.sqrt(d)))
        h = unit(h)
        return unit(h + alpha * (unit(y) - h))

    def forward(self, p, x, state):
        x = self.step(p, "attn", x, self.attend(p, x))
        return self.step(p, "mlp", x, self.mlp(p, x))


def ngpt_project(model, params):
    """nGPT's projection after every optimizer step (and at initialisation): every vector along
    the embedding dimension back to unit length (section 2.6; NVIDIA/ngpt train.py's
    normalize_matrices): the token embedding's rows (wte and lm_head there, one tied matrix
    here), the rows of q, k, v and fc1 (they read the stream), the columns of the attention and
    MLP output projections (they write it)."""
    with torch.no_grad():
        params["tok_emb.weight"].copy_(unit(params["tok_emb.weight"]))
        for b in model.blocks:
            for name, dim in (("attn.qkv.weight", 1), ("attn.proj.weight", 0),
                              ("mlp.fc1.weight", 1), ("mlp.fc2.weight", 0)):
                w = params[b.pre + name]
                w.copy_(w / w.norm(dim=dim, keepdim=True))


class CompletePBlock(Block):
    """CompleteP (Dey et al. 2025, arXiv 2505.01618, its residual rule; EleutherAI/nanoGPT-mup
    branch completep): Pre-LN with each residual branch scaled by m_L^-alpha, m_L = L / L_base:
    x <- alpha_shortcut x + dt m_L^-alpha F(N(x)). The learning-rate and epsilon part of the
    parametrisation is the optimizer's (adamw_losses)."""

    def update(self, s, p, x, state):
        branch = completep_scales(self.cfg, self.L)[0]
        return self.alpha * x + self.dt * branch * self.F(s, p, self.N(p, f"{s}.norm_in", x))

    def sublayer_norms(self, s):
        return [(f"{s}.norm_in", "d")]
class SubLNBlock(Block):
    """Sub-LN, Magneto's block (Wang et al. 2022, "Foundation Transformers", arXiv 2210.06423,
    eq. Sub-LN): Pre-LN with a second LayerNorm inside each sublayer before its output
    projection, x <- x + dt W_out(LN(f(W_in LN(x)))): attention x + Wo LN(Attn(LN(x))), the MLP
    x + W2 LN(gelu(W1 LN(x))). The official code (torchscale, subln=True) gives the inner norm
    to self-attention only (`inner_attn_ln` exists only when self_attention), so an
    encoder-decoder's cross-attention is plain Pre-LN."""

    def update(self, s, p, x, state):
        u = self.N(p, f"{s}.norm_in", x)
        if s == "attn":
            f = attention(p, self.pre + "attn", u, self.cfg, causal=self.causal,
                          key_mask=self.ctx.get("self_mask"), sub_norm=True)
        elif s == "cross":
            f = self.C(p, u)
        else:
            f = mlp(p, self.pre + "mlp", u, self.cfg, sub_norm=True)
        return self.alpha * x + self.dt * f

    def sublayer_norms(self, s):
        inner = {"attn": [("attn.inner_norm", "d")], "cross": [],
                 "mlp": [("mlp.inner_norm", "ff")]}[s]
        return [(f"{s}.norm_in", "d")] + inner


class AdminBlock(Block):
    """Admin (Liu, Liu, Gao, Chen, Han 2020, "Understanding the Difficulty of Training
    Transformers", arXiv 2004.08249, eq. 6): Post-LN with a learnable shortcut weight per
    sublayer, a vector of size d: x <- N(alpha omega * x + dt F(x)). omega is set once by the
    profiling pass (admin_profile below, Algorithm 1) and then trained like any parameter."""

    def update(self, s, p, x, state):
        f = self.dt * self.F(s, p, x)
        name = f"{self.pre}{s}.omega"
        if "admin_ratio" in state:  # profiling: omega_i = the stack's running ratio
            p[name] = torch.full_like(p[name], state["admin_ratio"])
        shortcut = self.alpha * p[name] * x
        if "admin_ratio" in state:
            # the next ratio: sqrt(Var[omega_i x_i] + Var[F_i(x_i)]), each over every element
            state["admin_ratio"] = math.sqrt(float(shortcut.var(unbiased=False))
                                             + float(f.var(unbiased=False)))
        return self.N(p, f"{s}.norm_post", shortcut + f)

    def sublayer_norms(self, s):
        return [(f"{s}.norm_post", "d")]

    def sublayer_params(self, s):
        return [(f"{s}.omega", "d")]


class NoneBlock(Block):
    """No normalization (T-Fixup's setting, Huang et al. 2020): x <- x + dt F(x)."""

    def update(self, s, p, x, state):
        return self.alpha * x + self.dt * self.F(s, p, x)


BLOCKS = {
    "post": PostBlock, "pre": PreBlock, "peri": PeriBlock, "b2t": B2TBlock,
    "deepnorm": DeepNormBlock, "lns": LNSBlock, "hybrid": HybridBlock, "resi": ResiDualBlock,
    "none": NoneBlock, "olmo2": OLMo2Block, "siamese": SiameseBlock, "ngpt": NGPTBlock,
    "completep": CompletePBlock,
    "subln": SubLNBlock, "admin": AdminBlock,
}


class PerSublayerBlock(Block):
    """A custom block whose sublayers follow different per-sublayer placements, given as
    cfg["sublayer_placements"] = {"attn": "pre", "cross": "post", "mlp": "pre"} (reference-only
    key: lets a parity test check a custom `block` with its own cross recipe). Each sublayer uses
    that placement's update rule above."""

    def rule(self, s):
        cls = BLOCKS[self.cfg["sublayer_placements"][s]]
        if cls in (B2TBlock, ResiDualBlock, SiameseBlock):
            raise ValueError("sublayer_placements takes per-sublayer rules only")
        return cls

    def update(self, s, p, x, state):
        return self.rule(s).update(self, s, p, x, state)

    def sublayer_norms(self, s):
        return self.rule(s).sublayer_norms(self, s)


def layer_placements(text, L):
    """Per-layer designs (docs/placements.md): "A-B: NAME, A-: NAME, A: NAME", 0-based layers
    with both ends included -> the placement name of each of the L layers. Only placement names
    (each one of the classes above), never block-description letters."""
    names = [None] * L
    for entry in text.split(","):
        rng, name = (t.strip() for t in entry.split(":", 1))
        first, dash, last = (t.strip() for t in rng.partition("-"))
        lo = int(first)
        hi = (int(last) if last else L - 1) if dash else lo
        for i in range(lo, hi + 1):
            if names[i] is not None:
                raise ValueError(f"layer {i} given twice in {text!r}")
            names[i] = "peri" if name == "sandwich" else name
    if None in names:
        raise ValueError(f"{text!r} leaves layer {names.index(None)} without a placement")
    return names


def is_layer_list(block):
    return str(block).strip()[:1].isdigit()


def make_blocks(cfg, prefix="blocks.", depth=None, alpha=None, causal=True, cross=False):
    """The blocks of one stack of `depth` blocks (default n_layers, the decoder's depth)."""
    L = cfg["n_layers"] if depth is None else depth
    placement = cfg["placement"]
    kw = dict(prefix=prefix, depth=L, alpha=alpha, causal=causal, cross=cross)
    if completep_alpha(cfg) is not None and placement != "completep":
        raise ValueError("the reference has CompleteP's residual rule for its Pre-LN only "
                         "(placement completep)")
    if is_layer_list(cfg.get("block", "")):
        # Each layer follows its own placement's equations; l stays the block's index in the
        # stack (LayerNorm Scaling's 1/sqrt(l)).
        return [BLOCKS[name](i, cfg, **kw) for i, name in
                enumerate(layer_placements(cfg["block"], L))]
    if cfg.get("sublayer_placements"):
        return [PerSublayerBlock(i, cfg, **kw) for i in range(L)]
    if placement == "mixln":
        # Mix-LN (Li, Yin, Liu 2024): Post-LN in the lowest floor(a L) blocks, Pre-LN above.
        n_post = int(math.floor(cfg["lower_fraction"] * L))
        return [PostBlock(i, cfg, **kw) if i + 1 <= n_post else PreBlock(i, cfg, **kw)
                for i in range(L)]
    if placement not in BLOCKS:
        raise ValueError(f"the reference has no equations for placement '{placement}'")
    return [BLOCKS[placement](i, cfg, **kw) for i in range(L)]


# --------------------------------------------------------------------------- a stack of blocks
class Stack:
    """Blocks, then the stack's output: x_L + N_resi(d_L) (ResiDual), N_final(N_top(x_L) +
    N_resi(y_L)) (SiameseNorm; without N_final if final_norm is false), N_final(x_L) or x_L.
    `prefix` is "" for the decoder-only LM, "encoder." / "decoder." in an encoder-decoder."""

    def __init__(self, cfg, prefix="", depth=None, alpha=None, causal=True, cross=False):
        self.cfg = cfg
        self.prefix = prefix
        self.blocks = make_blocks(cfg, prefix + "blocks.", depth, alpha, causal, cross)
        # ResiDual's dual stream, when some block is ResiDual's (d_0 = x_0, only its sublayers
        # add to it).
        # SiameseNorm's second stream y likewise (y_0 = x_0); its output normalises both streams.
        self.siamese = any(isinstance(b, SiameseBlock) for b in self.blocks)
        self.dual = self.siamese or any(isinstance(b, ResiDualBlock) for b in self.blocks)
        self.final = (self.siamese or not self.dual) and has_final_norm(cfg)
        self.profiling = False  # Admin's profiling pass (admin_profile)

    def param_shapes(self):
        c = self.cfg
        d, ff = c["d_model"], c["d_ff"]
        hd = d // c["n_heads"]
        out = {}
        if c["positions"] == "learned":
            out[self.prefix + "pos_emb.weight"] = [c["seq_len"], d]
        for b in self.blocks:
            pre = b.pre
            if isinstance(b, NGPTBlock):
                out.update(b.param_shapes(d, ff))
                continue
            out[pre + "attn.qkv.weight"] = [3 * d, d]
            out[pre + "attn.qkv.bias"] = [3 * d]
            out[pre + "attn.proj.weight"] = [d, d]
            out[pre + "attn.proj.bias"] = [d]
            if b.cross:
                out[pre + "cross.q.weight"] = [d, d]
                out[pre + "cross.q.bias"] = [d]
                out[pre + "cross.kv.weight"] = [2 * d, d]
                out[pre + "cross.kv.bias"] = [2 * d]
                out[pre + "cross.proj.weight"] = [d, d]
                out[pre + "cross.proj.bias"] = [d]
            out[pre + "mlp.fc1.weight"] = [ff, d]
            out[pre + "mlp.fc1.bias"] = [ff]
            out[pre + "mlp.fc2.weight"] = [d, ff]
            out[pre + "mlp.fc2.bias"] = [d]
            for s in b.sublayers():
                for name, width in b.sublayer_params(s):
                    out[pre + name] = [{"d": d}[width]]
            for name, width in b.norms():
                n = {"d": d, "hd": hd, "ff": ff}[width]
                for k, s in norm_param_shapes(c["norm"], n).items():
                    out[f"{pre}{name}.{k}"] = s
        for on, tag in ((self.final, "final_norm"), (self.dual, "resi_norm"),
                        (self.siamese, "top_norm")):
            if on:
                for k, s in norm_param_shapes(c["norm"], d).items():
                    out[f"{self.prefix}{tag}.{k}"] = s
        return out

    def embed(self, p, tokens):
        """x_0 = s * tok_emb[tokens] + pos[t] (docs/model.md); tok_emb is shared by the stacks."""
        c = self.cfg
        T = tokens.shape[1]
        d = c["d_model"]
        emb = p["tok_emb.weight"]
        s = math.sqrt(d) if c["scale_embedding"] else 1.0
        if c["positions"] == "learned":
            pos = p[self.prefix + "pos_emb.weight"][:T]
        else:
            pos = sinusoidal_table(T, d, emb.dtype)
        return s * emb[tokens] + pos[None]

    def forward(self, p, x, ctx=None):
        state = {"dual": x}
        if self.profiling:
            state["admin_ratio"] = 1.0  # Admin: omega_1 = 1
        for b in self.blocks:
            if ctx is not None:
                b.ctx = ctx
            x = b.forward(p, x, state)
        eps, kind = self.cfg["norm_eps"], self.cfg["norm"]
        if self.siamese:  # official code: ln_final_f(ln_f(x) + ln_y_f(y))
            x = (apply_norm(kind, p, self.prefix + "top_norm", x, eps)
                 + apply_norm(kind, p, self.prefix + "resi_norm", state["dual"], eps))
        elif self.dual:
            return x + apply_norm(kind, p, self.prefix + "resi_norm", state["dual"], eps)
        if self.final:
            return apply_norm(kind, p, self.prefix + "final_norm", x, eps)
        return x


def smoothed_cross_entropy(logits, targets, smoothing=0.0):
    """Mean over targets >= 0 of (1 - eps)(-log p_y) + eps mean_j(-log p_j) (Szegedy et al.
    2016's label smoothing in fairseq's form); eps = 0 is plain cross-entropy."""
    logp = torch.log_softmax(logits.reshape(-1, logits.shape[-1]), dim=-1)
    y = targets.reshape(-1)
    keep = y >= 0
    nll = -logp.gather(1, y.clamp(min=0)[:, None])[:, 0]
    per = (1.0 - smoothing) * nll + smoothing * (-logp.mean(-1))
    return (per * keep).sum() / keep.sum()


# --------------------------------------------------------------------------- the models
class Model:
    """The decoder-only LM: logits = Stack(x_0) tok_emb^T."""

    def __init__(self, cfg):
        self.cfg = full_config(cfg)
        if float(self.cfg["dropout"]) != 0.0:
            raise ValueError("the reference is deterministic: dropout must be 0")
        if self.cfg["arch"] != "lm":
            raise ValueError(f"Model is the decoder-only LM; arch {self.cfg['arch']} needs "
                             "make_model")
        self.stack = Stack(self.cfg)
        self.blocks = self.stack.blocks
        self.dual = self.stack.dual
        self.final = self.stack.final
        # nGPT (every block NGPTBlock): logits z = s_z (h E^T), s_z = s_z_stored / (1/sqrt(d))
        # (eq. 3 and section 2.6), and its matrices projected after every optimizer step.
        self.ngpt = all(isinstance(b, NGPTBlock) for b in self.blocks)

    def param_shapes(self):
        c = self.cfg
        out = {"tok_emb.weight": [c["vocab_size"], c["d_model"]]}
        out.update(self.stack.param_shapes())
        if self.ngpt:
            out["s_z"] = [c["vocab_size"]]
        return out

    def logits(self, p, tokens):
        h = self.stack.forward(p, self.stack.embed(p, tokens))
        z = h @ p["tok_emb.weight"].t()
        if self.ngpt:
            z = z * (p["s_z"] * math.sqrt(self.cfg["d_model"]))
        return z

    def after_step(self, params):
        """What follows each optimizer step: nGPT's projection onto the sphere, else nothing."""
        if self.ngpt:
            ngpt_project(self, params)

    def loss(self, p, tokens, targets):
        lg = self.logits(p, tokens)
        return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), targets.reshape(-1))


def encdec_residual_alpha(cfg):
    """(encoder alpha, decoder alpha). DeepNet (Wang et al. 2022) for N encoder and M decoder
    blocks: encoder 0.81 (N^4 M)^(1/16), decoder (3M)^(1/4); a number sets both."""
    a = str(cfg["residual_alpha"]).strip()
    if a != "auto":
        return float(a), float(a)
    if cfg["placement"] != "deepnorm":
        return 1.0, 1.0
    N, M = cfg["encoder_layers"], cfg["n_layers"]
    return 0.81 * (N ** 4 * M) ** (1.0 / 16.0), (3.0 * M) ** 0.25


class EncDecModel:
    """Transformer encoder-decoder (Vaswani et al. 2017) under every placement: an encoder stack
    of encoder_layers blocks (self-attention without causal mask, MLP) and a decoder stack of
    n_layers blocks (causal self-attention, cross-attention to the encoder output, MLP); each
    stack resolves dt, alpha, Mix-LN's split and its final norm with its own depth. tok_emb is
    shared by both inputs and the output head.

    Inputs of loss()/logits(): (src [B, S], src_mask [B, S] bool, tgt_in [B, T])."""

    def __init__(self, cfg, smoothing=0.0):
        self.cfg = full_config(cfg)
        c = self.cfg
        if float(c["dropout"]) != 0.0:
            raise ValueError("the reference is deterministic: dropout must be 0")
        self.smoothing = float(smoothing)
        a_enc, a_dec = encdec_residual_alpha(c)
        self.encoder = Stack(c, "encoder.", c["encoder_layers"], a_enc, causal=False)
        self.decoder = Stack(c, "decoder.", c["n_layers"], a_dec, causal=True, cross=True)

    def param_shapes(self):
        c = self.cfg
        out = {"tok_emb.weight": [c["vocab_size"], c["d_model"]]}
        out.update(self.encoder.param_shapes())
        out.update(self.decoder.param_shapes())
        return out

    def encode(self, p, src, src_mask):
        return self.encoder.forward(p, self.encoder.embed(p, src), {"self_mask": src_mask})

    def logits(self, p, inputs):
        src, src_mask, tgt_in = inputs
        memory = self.encode(p, src, src_mask)
        ctx = {"memory": memory, "memory_mask": src_mask}
        h = self.decoder.forward(p, self.decoder.embed(p, tgt_in), ctx)
        return h @ p["tok_emb.weight"].t()

    def loss(self, p, inputs, targets):
        return smoothed_cross_entropy(self.logits(p, inputs), targets, self.smoothing)


def admin_profile(model, params, *batch):
    """Admin's profiling pass (Liu et al. 2020, Algorithm 1, in the official code's form,
    LiyuanLucasLiu/Transformer-Clinic, init_type adaptive-profiling): one forward on the batch
    in which each stack, its sublayers bottom up, sets omega_1 = 1 and omega_{i+1} =
    sqrt(Var[omega_i x_i] + Var[F_i(x_i)]) (population variance over every element of the
    batch, padding included), each omega the vector filled with its scalar. Returns a new
    parameter dict (leaves requiring grad) with the profiled omega and the other tensors as
    given."""
    stacks = [model.stack] if hasattr(model, "stack") else [model.encoder, model.decoder]
    p = dict(params)
    with torch.no_grad():
        for st in stacks:
            st.profiling = True
        try:
            model.loss(p, *batch)
        finally:
            for st in stacks:
                st.profiling = False
    return {k: (v.detach().clone().requires_grad_(True) if k.endswith(".omega") else params[k])
            for k, v in p.items()}


def make_model(cfg, **kw):
    """Model or EncDecModel following cfg["arch"]."""
    arch = full_config(cfg)["arch"]
    if arch == "lm":
        return Model(cfg)
    if arch == "encdec":
        return EncDecModel(cfg, **kw)
    raise ValueError(f"the reference has no model for arch '{arch}'")


# --------------------------------------------------------------------------- I/O helpers
def load_checkpoint(path, dtype=torch.float64):
    """Returns (config dict, params dict name -> leaf tensor requiring grad)."""
    tensors, meta = safetensors_io.read(path)
    cfg = json.loads(meta["normlab.config"])
    params = {k: torch.tensor(np.asarray(v, dtype=np.float64), dtype=dtype).requires_grad_(True)
              for k, v in tensors.items()}
    return cfg, params


def read_token_text(path):
    """`normlab grad` token file: one row of T+1 ids per line -> (inputs [B,T], targets [B,T])."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append([int(t) for t in line.split()])
    ids = torch.tensor(rows, dtype=torch.long)
    return ids[:, :-1], ids[:, 1:]


def pad_pairs(pairs):
    """[(src ids, tgt ids)] -> ((src [B,S], src_mask [B,S], tgt_in [B,T]), targets [B,T]).
    Sources padded with id 0 (masked as keys); decoder input tgt[:-1] padded with 0, targets
    tgt[1:] padded with -1 (ignored)."""
    B = len(pairs)
    S = max(len(s) for s, _ in pairs)
    T = max(len(t) - 1 for _, t in pairs)
    src = torch.zeros(B, S, dtype=torch.long)
    mask = torch.zeros(B, S, dtype=torch.bool)
    tin = torch.zeros(B, T, dtype=torch.long)
    tout = torch.full((B, T), -1, dtype=torch.long)
    for b, (s, t) in enumerate(pairs):
        if len(s) < 1 or len(t) < 2:
            raise ValueError(f"row {b}: needs >= 1 source id and >= 2 target ids")
        src[b, :len(s)] = torch.tensor(s)
        mask[b, :len(s)] = True
        tin[b, :len(t) - 1] = torch.tensor(t[:-1])
        tout[b, :len(t) - 1] = torch.tensor(t[1:])
    return (src, mask, tin), tout


def read_pair_text(path):
    """`normlab grad` token file of an encoder-decoder: lines `SRC_IDS | TGT_IDS`."""
    pairs = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            src, tgt = line.split("|")
            pairs.append(([int(t) for t in src.split()], [int(t) for t in tgt.split()]))
    return pad_pairs(pairs)


def random_params(model, seed=0, dtype=torch.float64, scale=0.3):
    """Random parameters under the model's names (for self-tests; NOT normlab's init)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in model.param_shapes().items():
        t = torch.randn(shape, generator=g, dtype=torch.float64) * scale
        if name.endswith(".weight") and ("norm" in name):
            t = 1.0 + 0.2 * t
        if name.endswith(".alpha"):
            t = 0.5 + 0.1 * t
        out[name] = t.to(dtype).requires_grad_(True)
    return out


def loss_and_grads(model, params, tokens, targets):
    for t in params.values():
        t.grad = None
    loss = model.loss(params, tokens, targets)
    loss.backward()
    return loss.item(), {k: t.grad.detach().clone() for k, t in params.items()}


def decays(name, decay_all):
    """Weight decay on the blocks' weight matrices only (unless decay_all)."""
    if decay_all:
        return True
    return name.startswith(("blocks.", "encoder.blocks.", "decoder.blocks.")) and name.endswith(
        (".qkv.weight", ".proj.weight", ".fc1.weight", ".fc2.weight", ".q.weight", ".kv.weight"))


def hidden_depth(cfg, name):
    """The depth of the stack whose blocks hold tensor `name`, or None outside the blocks
    (embeddings, final and ResiDual norms): CompleteP's "hidden" tensors."""
    if name.startswith("blocks."):
        return cfg["n_layers"]
    if name.startswith("encoder.blocks."):
        return cfg["encoder_layers"]
    if name.startswith("decoder.blocks."):
        return cfg["n_layers"]
    return None


def param_groups(cfg, params, lr, eps, weight_decay, decay_all):
    """torch.optim.AdamW param groups: decay or not (decays), and CompleteP's Table 1 along depth
    (Dey et al. 2025): hidden tensors at lr m_L^(alpha-1) and eps m_L^-alpha, the rest at lr and
    eps (embeddings, final norm)."""
    cfg = full_config(cfg)
    groups = {}
    for name, t in params.items():
        L = hidden_depth(cfg, name)
        _, lr_scale, eps_scale = (1.0, 1.0, 1.0) if L is None else completep_scales(cfg, L)
        wd = weight_decay if decays(name, decay_all) else 0.0
        key = (wd, lr * lr_scale, eps * eps_scale)
        groups.setdefault(key, []).append(t)
    return [{"params": ts, "weight_decay": wd, "lr": glr, "eps": geps}
            for (wd, glr, geps), ts in groups.items()]


def adamw_losses(model, params, tokens, targets, steps, lr, beta1=0.9, beta2=0.98, eps=1e-8,
                 weight_decay=0.0, clip_norm=0.0, decay_all=False):
    """N AdamW steps at constant lr on one batch: returns the N+1 losses (before each step and
    after the last) and the gradients of the final parameters (docs/model.md, `normlab grad`)."""
    groups = param_groups(model.cfg, params, lr, eps, weight_decay, decay_all)
    opt = torch.optim.AdamW(groups, lr=lr, betas=(beta1, beta2), eps=eps)
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = model.loss(params, tokens, targets)
        loss.backward()
        losses.append(loss.item())
        if clip_norm and clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(list(params.values()), clip_norm)
        opt.step()
        if hasattr(model, "after_step"):
            model.after_step(params)
    loss, grads = loss_and_grads(model, params, tokens, targets)
    losses.append(loss)
    return losses, grads
