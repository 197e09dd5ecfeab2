"""Independent PyTorch oracle for normlab's decoder-only LM (docs/model.md is the contract).

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
    "scale_embedding": False, "dropout": 0.0, "beta1": 0.9, "beta2": 0.98, "adam_eps": 1e-8,
    "weight_decay": 0.0, "decay_all": False, "clip_norm": 1.0, "lr": 1e-3,
}

# Whether the placement's source applies a norm after the stack (docs/model.md table).
FINAL_NORM_AUTO = {
    "post": False, "pre": True, "peri": True, "sandwich": True, "b2t": False,
    "deepnorm": False, "mixln": True, "lns": True, "hybrid": True, "resi": False,
    "none": False,
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


def attention(p, prefix, u, cfg, qkv_norm=False):
    """Causal multi-head self-attention; with qkv_norm (HybridNorm, Zhuo et al. 2025) each
    head's q, k and v are normalised over the head dimension by a gain shared by the heads."""
    B, T, d = u.shape
    H = cfg["n_heads"]
    hd = d // H
    qkv = linear(p, prefix + ".qkv", u)
    q, k, v = qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]
    q, k, v = (z.reshape(B, T, H, hd).transpose(1, 2) for z in (q, k, v))  # [B, H, T, hd]
    if qkv_norm:
        kind, eps = cfg["norm"], cfg["norm_eps"]
        q = apply_norm(kind, p, prefix + ".q_norm", q, eps)
        k = apply_norm(kind, p, prefix + ".k_norm", k, eps)
        v = apply_norm(kind, p, prefix + ".v_norm", v, eps)
    s = q @ k.transpose(-1, -2) / math.sqrt(hd)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    s = s.masked_fill(mask, float("-inf"))
    o = torch.softmax(s, dim=-1) @ v  # [B, H, T, hd]
    o = o.transpose(1, 2).reshape(B, T, d)
    return linear(p, prefix + ".proj", o)


def mlp(p, prefix, u):
    return linear(p, prefix + ".fc2", F.gelu(linear(p, prefix + ".fc1", u), approximate="tanh"))


# --------------------------------------------------------------------------- blocks
class Block:
    """One decoder block l (1-based). Subclasses implement one placement's equations."""

    def __init__(self, index, cfg):
        self.i = index  # 0-based, for names
        self.l = index + 1
        self.cfg = cfg
        self.dt = parse_dt(cfg["dt"], cfg["n_layers"])
        self.alpha = residual_alpha(cfg)
        self.pre = f"blocks.{index}."

    def N(self, p, name, a):
        return apply_norm(self.cfg["norm"], p, self.pre + name, a, self.cfg["norm_eps"])

    def A(self, p, u, qkv_norm=False):
        return attention(p, self.pre + "attn", u, self.cfg, qkv_norm)

    def M(self, p, u):
        return mlp(p, self.pre + "mlp", u)

    def norms(self):
        """Names (after 'blocks.i.') of the norms this block owns, with their width."""
        return []


class PostBlock(Block):
    """Post-LN (Vaswani et al. 2017): x <- N(alpha x + dt F(x))."""

    def forward(self, p, x, state):
        x = self.N(p, "attn.norm_post", self.alpha * x + self.dt * self.A(p, x))
        return self.N(p, "mlp.norm_post", self.alpha * x + self.dt * self.M(p, x))

    def norms(self):
        return [("attn.norm_post", "d"), ("mlp.norm_post", "d")]


class DeepNormBlock(PostBlock):
    """DeepNet (Wang et al. 2022): x <- N(alpha x + F(x)), alpha = (2L)^(1/4) by default; the
    difference from Post-LN is alpha (and the init, which is normlab's business)."""

    def forward(self, p, x, state):
        h = self.alpha * x + self.dt * self.A(p, x)
        x = self.N(p, "attn.norm_post", h)
        h = self.alpha * x + self.dt * self.M(p, x)
        return self.N(p, "mlp.norm_post", h)


class PreBlock(Block):
    """Pre-LN (Xiong et al. 2020): x <- alpha x + dt F(N(x))."""

    def forward(self, p, x, state):
        x = self.alpha * x + self.dt * self.A(p, self.N(p, "attn.norm_in", x))
        return self.alpha * x + self.dt * self.M(p, self.N(p, "mlp.norm_in", x))

    def norms(self):
        return [("attn.norm_in", "d"), ("mlp.norm_in", "d")]


class PeriBlock(Block):
    """Peri-LN (Kim et al. 2025) / Sandwich-LN: x <- alpha x + dt N_out(F(N_in(x)))."""

    def forward(self, p, x, state):
        y = self.N(p, "attn.norm_out", self.A(p, self.N(p, "attn.norm_in", x)))
        x = self.alpha * x + self.dt * y
        y = self.N(p, "mlp.norm_out", self.M(p, self.N(p, "mlp.norm_in", x)))
        return self.alpha * x + self.dt * y

    def norms(self):
        return [("attn.norm_in", "d"), ("attn.norm_out", "d"),
                ("mlp.norm_in", "d"), ("mlp.norm_out", "d")]


class B2TBlock(Block):
    """B2T connection (Takase et al. 2023): h = N1(x + A(x)), y = N2(M(h) + h + x)."""

    def forward(self, p, x, state):
        h = self.N(p, "attn.norm_post", self.alpha * x + self.dt * self.A(p, x))
        return self.N(p, "mlp.norm_post", self.alpha * h + self.dt * self.M(p, h) + x)

    def norms(self):
        return [("attn.norm_post", "d"), ("mlp.norm_post", "d")]


class LNSBlock(Block):
    """LayerNorm Scaling (Sun et al. 2025): x <- x + dt F(N(x) / sqrt(l))."""

    def forward(self, p, x, state):
        c = 1.0 / math.sqrt(self.l)
        x = self.alpha * x + self.dt * self.A(p, self.N(p, "attn.norm_in", x) * c)
        return self.alpha * x + self.dt * self.M(p, self.N(p, "mlp.norm_in", x) * c)

    def norms(self):
        return [("attn.norm_in", "d"), ("mlp.norm_in", "d")]


class HybridBlock(Block):
    """HybridNorm (Zhuo et al. 2025): Y = X + A(N(XWq), N(XWk), N(XWv)) with per-head norms;
    X' = N(Y) + M(N(Y))."""

    def forward(self, p, x, state):
        y = self.alpha * x + self.dt * self.A(p, x, qkv_norm=True)
        z = self.N(p, "mlp.norm_stream", y)
        return self.alpha * z + self.dt * self.M(p, z)

    def norms(self):
        return [("attn.q_norm", "hd"), ("attn.k_norm", "hd"), ("attn.v_norm", "hd"),
                ("mlp.norm_stream", "d")]


class ResiDualBlock(Block):
    """ResiDual (Xie et al. 2023): x_{k+1} = N(x_k + F(x_k)), d_{k+1} = d_k + F(x_k)."""

    def forward(self, p, x, state):
        f = self.A(p, x)
        state["dual"] = state["dual"] + f
        x = self.N(p, "attn.norm_post", self.alpha * x + self.dt * f)
        f = self.M(p, x)
        state["dual"] = state["dual"] + f
        return self.N(p, "mlp.norm_post", self.alpha * x + self.dt * f)

    def norms(self):
        return [("attn.norm_post", "d"), ("mlp.norm_post", "d")]


class NoneBlock(Block):
    """No normalization (T-Fixup's setting, Huang et al. 2020): x <- x + dt F(x)."""

    def forward(self, p, x, state):
        x = self.alpha * x + self.dt * self.A(p, x)
        return self.alpha * x + self.dt * self.M(p, x)


BLOCKS = {
    "post": PostBlock, "pre": PreBlock, "peri": PeriBlock, "b2t": B2TBlock,
    "deepnorm": DeepNormBlock, "lns": LNSBlock, "hybrid": HybridBlock, "resi": ResiDualBlock,
    "none": NoneBlock,
}


def make_blocks(cfg):
    L = cfg["n_layers"]
    placement = cfg["placement"]
    if placement == "mixln":
        # Mix-LN (Li, Yin, Liu 2024): Post-LN in the lowest floor(a L) blocks, Pre-LN above.
        n_post = int(math.floor(cfg["lower_fraction"] * L))
        return [PostBlock(i, cfg) if i + 1 <= n_post else PreBlock(i, cfg) for i in range(L)]
    if placement not in BLOCKS:
        raise ValueError(f"the reference has no equations for placement '{placement}'")
    return [BLOCKS[placement](i, cfg) for i in range(L)]


# --------------------------------------------------------------------------- the model
class Model:
    def __init__(self, cfg):
        self.cfg = full_config(cfg)
        if float(self.cfg["dropout"]) != 0.0:
            raise ValueError("the reference is deterministic: dropout must be 0")
        self.blocks = make_blocks(self.cfg)
        self.dual = self.cfg["placement"] == "resi"
        self.final = (not self.dual) and has_final_norm(self.cfg)

    def param_shapes(self):
        c = self.cfg
        V, d, ff, T = c["vocab_size"], c["d_model"], c["d_ff"], c["seq_len"]
        hd = d // c["n_heads"]
        out = {"tok_emb.weight": [V, d]}
        if c["positions"] == "learned":
            out["pos_emb.weight"] = [T, d]
        for b in self.blocks:
            pre = b.pre
            out[pre + "attn.qkv.weight"] = [3 * d, d]
            out[pre + "attn.qkv.bias"] = [3 * d]
            out[pre + "attn.proj.weight"] = [d, d]
            out[pre + "attn.proj.bias"] = [d]
            out[pre + "mlp.fc1.weight"] = [ff, d]
            out[pre + "mlp.fc1.bias"] = [ff]
            out[pre + "mlp.fc2.weight"] = [d, ff]
            out[pre + "mlp.fc2.bias"] = [d]
            for name, width in b.norms():
                for k, s in norm_param_shapes(c["norm"], d if width == "d" else hd).items():
                    out[f"{pre}{name}.{k}"] = s
        if self.final:
            for k, s in norm_param_shapes(c["norm"], d).items():
                out["final_norm." + k] = s
        if self.dual:
            for k, s in norm_param_shapes(c["norm"], d).items():
                out["resi_norm." + k] = s
        return out

    def logits(self, p, tokens):
        c = self.cfg
        B, T = tokens.shape
        d = c["d_model"]
        emb = p["tok_emb.weight"]
        s = math.sqrt(d) if c["scale_embedding"] else 1.0
        if c["positions"] == "learned":
            pos = p["pos_emb.weight"][:T]
        else:
            pos = sinusoidal_table(T, d, emb.dtype)
        x = s * emb[tokens] + pos[None]
        state = {"dual": x}
        for b in self.blocks:
            x = b.forward(p, x, state)
        eps, kind = c["norm_eps"], c["norm"]
        if self.dual:
            h = x + apply_norm(kind, p, "resi_norm", state["dual"], eps)
        elif self.final:
            h = apply_norm(kind, p, "final_norm", x, eps)
        else:
            h = x
        return h @ emb.t()

    def loss(self, p, tokens, targets):
        lg = self.logits(p, tokens)
        return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), targets.reshape(-1))


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
    if decay_all:
        return True
    return name.startswith("blocks.") and name.endswith(
        (".qkv.weight", ".proj.weight", ".fc1.weight", ".fc2.weight"))


def adamw_losses(model, params, tokens, targets, steps, lr, beta1=0.9, beta2=0.98, eps=1e-8,
                 weight_decay=0.0, clip_norm=0.0, decay_all=False):
    """N AdamW steps at constant lr on one batch: returns the N+1 losses (before each step and
    after the last) and the gradients of the final parameters (docs/model.md, `normlab grad`)."""
    names = list(params)
    decay = [params[n] for n in names if decays(n, decay_all)]
    rest = [params[n] for n in names if not decays(n, decay_all)]
    groups = [g for g in ({"params": decay, "weight_decay": weight_decay},
                          {"params": rest, "weight_decay": 0.0}) if g["params"]]
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
    loss, grads = loss_and_grads(model, params, tokens, targets)
    losses.append(loss)
    return losses, grads
