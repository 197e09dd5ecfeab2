"""Checks of the PyTorch reference itself (no normlab binary needed): its gradients against
float64 finite differences, its tables, its safetensors reader and its AdamW. The parity tests
trust this oracle, so it is checked on its own. ctest collects it as every test_*.py (and passes
the normlab path, which this script does not use).

Run: /usr/bin/python3 tests/reference/test_reference_model.py
"""
import math
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as ref  # noqa: E402
import safetensors_io  # noqa: E402

TINY = {"vocab_size": 11, "d_model": 8, "n_heads": 2, "n_layers": 2, "d_ff": 12, "seq_len": 5}
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}")


def batch(cfg, B=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, cfg["vocab_size"], (B, cfg["seq_len"] + 1), generator=g)
    return ids[:, :-1], ids[:, 1:]


def loss_of(cfg, params, seed=0):
    m = ref.Model(cfg)
    x, y = batch(m.cfg, seed=seed)
    return m.loss(params, x, y)


# ---------------------------------------------------------------- gradcheck (float64)
def gradcheck_case(placement, norm, **extra):
    cfg = dict(TINY, placement=placement, norm=norm, **extra)
    m = ref.Model(cfg)
    params = ref.random_params(m, seed=1)
    names = list(params)
    x, y = batch(m.cfg)

    def f(*ts):
        return m.loss(dict(zip(names, ts)), x, y)

    ok = torch.autograd.gradcheck(f, tuple(params[n] for n in names), eps=1e-6, atol=1e-6,
                                  rtol=1e-5, raise_exception=False)
    check(f"gradcheck {placement}/{norm} {extra or ''}", ok)


for pl, nm, ex in [("post", "layernorm", {}), ("peri", "rmsnorm", {"dt": "0.5"}),
                   ("hybrid", "layernorm", {}), ("hybrid", "dyt", {}), ("resi", "rmsnorm", {}),
                   ("b2t", "dyt", {}), ("lns", "layernorm", {"dt": "1/sqrt(L)"}),
                   ("mixln", "rmsnorm", {"lower_fraction": 0.5}),
                   ("deepnorm", "layernorm", {}),
                   ("completep", "rmsnorm", {"completep_alpha": "0.5", "dt": "0.5"}),
                   ("none", "layernorm", {"positions": "sinusoidal", "scale_embedding": True}),
                   ("siamese", "layernorm", {}), ("siamese", "dyt", {"final_norm": "false"}),
                   ("ngpt", "layernorm", {})]:
    gradcheck_case(pl, nm, **ex)


# ---------------------------------------------------------------- nGPT on the hypersphere
def ngpt_on_sphere():
    """After ngpt_project every embedding-dimension vector is unit (the embedding's rows, qkv's
    and fc1's rows, proj's and fc2's columns), and every block's output is a unit vector."""
    m = ref.Model(dict(TINY, placement="ngpt"))
    params = ref.random_params(m, seed=3)
    m.after_step(params)
    worst = 0.0
    for name, t in params.items():
        dim = {"tok_emb.weight": 1, "qkv.weight": 1, "fc1.weight": 1, "proj.weight": 0,
               "fc2.weight": 0}.get(name if name == "tok_emb.weight" else name.split(".", 3)[-1])
        if dim is not None:
            worst = max(worst, float((t.detach().norm(dim=dim) - 1).abs().max()))
    x, _ = batch(m.cfg)
    h = m.stack.embed(params, x)
    for b in m.blocks:
        h = b.forward(params, h, {})
        worst = max(worst, float((h.detach().norm(dim=-1) - 1).abs().max()))
    check("nGPT: projected matrices and hidden states are unit", worst < 1e-12, f"{worst:.1e}")


ngpt_on_sphere()


# ---------------------------------------------------------------- hand-written Post-LN, L = 1
def np_ln(a, g, b, eps):
    mu = a.mean(-1, keepdims=True)
    var = ((a - mu) ** 2).mean(-1, keepdims=True)
    return g * (a - mu) / np.sqrt(var + eps) + b


def np_gelu(z):
    return 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))


def hand_post_loss(P, tokens, targets, H, dt, eps):
    """x1 = LN(x + dt*Attn(x)), x2 = LN(x1 + dt*MLP(x1)), logits = x2 E^T, Vaswani et al."""
    E = P["tok_emb.weight"]
    B, T = tokens.shape
    d = E.shape[1]
    hd = d // H
    x = E[tokens] + P["pos_emb.weight"][:T][None]
    qkv = x @ P["blocks.0.attn.qkv.weight"].T + P["blocks.0.attn.qkv.bias"]
    o = np.zeros((B, T, d))
    for b in range(B):
        for h in range(H):
            q = qkv[b, :, h * hd:(h + 1) * hd]
            k = qkv[b, :, d + h * hd:d + (h + 1) * hd]
            v = qkv[b, :, 2 * d + h * hd:2 * d + (h + 1) * hd]
            for t in range(T):
                s = np.array([q[t] @ k[j] / math.sqrt(hd) for j in range(t + 1)])
                w = np.exp(s - s.max())
                w /= w.sum()
                o[b, t, h * hd:(h + 1) * hd] = w @ v[:t + 1]
    a = o @ P["blocks.0.attn.proj.weight"].T + P["blocks.0.attn.proj.bias"]
    x = np_ln(x + dt * a, P["blocks.0.attn.norm_post.weight"], P["blocks.0.attn.norm_post.bias"],
              eps)
    hdn = np_gelu(x @ P["blocks.0.mlp.fc1.weight"].T + P["blocks.0.mlp.fc1.bias"])
    f = hdn @ P["blocks.0.mlp.fc2.weight"].T + P["blocks.0.mlp.fc2.bias"]
    x = np_ln(x + dt * f, P["blocks.0.mlp.norm_post.weight"], P["blocks.0.mlp.norm_post.bias"],
              eps)
    lg = x @ E.T
    lg = lg - lg.max(-1, keepdims=True)
    lp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
    return -np.mean([lp[b, t, targets[b, t]] for b in range(B) for t in range(T)])


cfg = dict(TINY, n_layers=1, placement="post", norm="layernorm", dt="0.7")
m = ref.Model(cfg)
params = ref.random_params(m, seed=3)
x, y = batch(m.cfg, seed=3)
got = m.loss(params, x, y).item()
want = hand_post_loss({k: v.detach().numpy() for k, v in params.items()}, x.numpy(), y.numpy(),
                      2, 0.7, 1e-5)
check("post L=1 equals hand-written formula", abs(got - want) < 1e-12 * max(1, abs(want)),
      f"{got} vs {want}")


# ---------------------------------------------------------------- equivalences between presets
def same_loss(name, cfg_a, cfg_b, seed=5, tol=1e-12):
    ma, mb = ref.Model(cfg_a), ref.Model(cfg_b)
    sa, sb = ma.param_shapes(), mb.param_shapes()
    if sa != sb:
        check(name, False, f"different parameter sets {sorted(set(sa) ^ set(sb))}")
        return
    params = ref.random_params(ma, seed=seed)
    x, y = batch(ma.cfg, seed=seed)
    la, lb = ma.loss(params, x, y).item(), mb.loss(params, x, y).item()
    check(name, abs(la - lb) <= tol * max(1, abs(la)), f"{la} vs {lb}")


for nm in ["layernorm", "rmsnorm", "dyt"]:
    base = dict(TINY, n_layers=3, norm=nm)
    same_loss(f"mixln lower_fraction 0 == pre ({nm})",
              dict(base, placement="mixln", lower_fraction=0.0), dict(base, placement="pre"))
    same_loss(f"mixln lower_fraction 1 == post + final norm ({nm})",
              dict(base, placement="mixln", lower_fraction=1.0),
              dict(base, placement="post", final_norm="true"))
    same_loss(f"sandwich == peri ({nm})", dict(base, placement="sandwich"),
              dict(base, placement="peri"))
    L = base["n_layers"]
    same_loss(f"deepnorm == post with alpha (2L)^(1/4) ({nm})", dict(base, placement="deepnorm"),
              dict(base, placement="post", residual_alpha=str((2 * L) ** 0.25)))
    same_loss(f"lns L=1 == pre L=1 ({nm})", dict(base, n_layers=1, placement="lns"),
              dict(base, n_layers=1, placement="pre"))

# mixln with lower_fraction 0.5 over 4 layers: blocks 0,1 post, 2,3 pre.
mm = ref.Model(dict(TINY, n_layers=4, placement="mixln", lower_fraction=0.5))
kinds = [type(b).__name__ for b in mm.blocks]
check("mixln 0.5 of 4 -> 2 post then 2 pre", kinds == ["PostBlock"] * 2 + ["PreBlock"] * 2,
      str(kinds))


# ---------------------------------------------------------------- HybridNorm's per-head norms
def hybrid_head_scaling(norm, per_head_scale):
    cfg = dict(TINY, placement="hybrid", norm=norm, norm_eps=1e-30, n_layers=1)
    m = ref.Model(cfg)
    params = ref.random_params(m, seed=7)
    x, y = batch(m.cfg, seed=7)
    base = m.loss(params, x, y).item()
    d, hd = 8, 4
    p2 = {k: v.detach().clone() for k, v in params.items()}
    # Scale head 0's query rows (weights and bias): per-head normalisation cancels it.
    rows = slice(0, hd) if per_head_scale else slice(0, d)
    p2["blocks.0.attn.qkv.weight"][rows] *= 3.7
    p2["blocks.0.attn.qkv.bias"][rows] *= 3.7
    return base, m.loss(p2, x, y).item()


for nm in ["layernorm", "rmsnorm"]:
    a, b = hybrid_head_scaling(nm, True)
    check(f"hybrid q norm is per head: scaling head 0's q leaves the loss ({nm})",
          abs(a - b) < 1e-10, f"{a} vs {b}")
shapes = ref.Model(dict(TINY, placement="hybrid")).param_shapes()
check("hybrid q/k/v norm gains are [hd]",
      all(shapes[f"blocks.0.attn.{z}_norm.weight"] == [4] for z in "qkv"))


# A per-d (not per-head) normalisation would NOT be invariant: make sure the test can fail.
def whole_d_qnorm_loss(scale):
    cfg = ref.full_config(dict(TINY, placement="hybrid", norm="rmsnorm", norm_eps=1e-30,
                               n_layers=1))
    m = ref.Model(cfg)
    params = ref.random_params(m, seed=7)
    p2 = {k: v.detach().clone() for k, v in params.items()}
    p2["blocks.0.attn.qkv.weight"][0:4] *= scale
    p2["blocks.0.attn.qkv.bias"][0:4] *= scale
    qkv = (torch.randn(1, 3, 8, dtype=torch.float64) @ p2["blocks.0.attn.qkv.weight"].t()
           + p2["blocks.0.attn.qkv.bias"])
    q = qkv[..., :8]
    return q / torch.sqrt((q * q).mean(-1, keepdim=True))  # whole-d RMS


check("control: whole-d normalisation is not head-scale invariant",
      not torch.allclose(whole_d_qnorm_loss(1.0)[..., 4:], whole_d_qnorm_loss(3.7)[..., 4:]))

# ---------------------------------------------------------------- small helpers
check("dt parsing", ref.parse_dt("1", 4) == 1.0 and ref.parse_dt("0.1", 4) == 0.1
      and ref.parse_dt("1/L", 4) == 0.25 and ref.parse_dt("1/sqrt(L)", 4) == 0.5)
tab = ref.sinusoidal_table(7, 8)
w = [10000 ** (-i / 3) for i in range(4)]
check("sinusoidal table (fairseq layout)",
      abs(tab[5, 1].item() - math.sin(5 * w[1])) < 1e-12
      and abs(tab[5, 4 + 3].item() - math.cos(5 * 1e-4)) < 1e-12 and tab[0, 4].item() == 1.0)
check("final norm auto table",
      [ref.Model(dict(TINY, placement=p)).final for p in
       ["post", "pre", "peri", "b2t", "deepnorm", "mixln", "lns", "hybrid", "resi", "none"]]
      == [False, True, True, False, False, True, True, True, False, False])
rs = ref.Model(dict(TINY, placement="resi")).param_shapes()
check("resi has resi_norm and no final_norm",
      "resi_norm.weight" in rs and "final_norm.weight" not in rs)

ss = ref.Model(dict(TINY, placement="siamese")).param_shapes()
check("siamese has top_norm, resi_norm and final_norm, and three norms per sublayer",
      {"top_norm.weight", "resi_norm.weight", "final_norm.weight"} <= set(ss)
      and all(f"blocks.1.{s}.{n}.weight" in ss for s in ("attn", "mlp")
              for n in ("norm_stream", "norm_dual", "norm_in")))
ss = ref.Model(dict(TINY, placement="siamese", final_norm="false")).param_shapes()
check("siamese final_norm false keeps both streams' norms",
      "final_norm.weight" not in ss and {"top_norm.weight", "resi_norm.weight"} <= set(ss))

# safetensors round trip
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "a.safetensors")
    t = {"a.b": np.arange(6, dtype=np.float32).reshape(2, 3), "c": np.array([7], np.int32)}
    safetensors_io.write(path, t, {"k": "v"})
    back, meta = safetensors_io.read(path)
    check("safetensors round trip", meta == {"k": "v"} and list(back) == ["a.b", "c"]
          and np.array_equal(back["a.b"], t["a.b"]) and back["c"].dtype == np.int32)


# ---------------------------------------------------------------- AdamW vs a hand-written one
def hand_adamw(cfg, params, x, y, steps, lr, b1, b2, eps, wd, clip):
    m = ref.Model(cfg)
    P = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    mom = {k: torch.zeros_like(v) for k, v in P.items()}
    vel = {k: torch.zeros_like(v) for k, v in P.items()}
    losses = []
    for t in range(1, steps + 1):
        loss, g = ref.loss_and_grads(m, P, x, y)
        losses.append(loss)
        total = math.sqrt(sum((gg ** 2).sum().item() for gg in g.values()))
        c = min(1.0, clip / (total + 1e-6)) if clip > 0 else 1.0
        with torch.no_grad():
            for k in P:
                gk = g[k] * c
                mom[k] = b1 * mom[k] + (1 - b1) * gk
                vel[k] = b2 * vel[k] + (1 - b2) * gk * gk
                mh = mom[k] / (1 - b1 ** t)
                vh = vel[k] / (1 - b2 ** t)
                decay = wd if ref.decays(k, False) else 0.0
                P[k] -= lr * (mh / (vh.sqrt() + eps) + decay * P[k])
    losses.append(ref.loss_and_grads(m, P, x, y)[0])
    return losses


cfg = dict(TINY, placement="peri", norm="rmsnorm")
m = ref.Model(cfg)
params = ref.random_params(m, seed=11)
x, y = batch(m.cfg, seed=11)
want = hand_adamw(cfg, params, x, y, 5, 0.01, 0.9, 0.98, 1e-8, 0.1, 1.0)
P = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
got, _ = ref.adamw_losses(m, P, x, y, 5, 0.01, 0.9, 0.98, 1e-8, 0.1, 1.0)
check("adamw_losses equals a hand-written AdamW (decay on block matrices, clipping)",
      len(got) == 6 and max(abs(a - b) for a, b in zip(got, want)) < 1e-10,
      f"{got[-1]} vs {want[-1]}")

failed = results.count(False)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
