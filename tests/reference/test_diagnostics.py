"""Per-layer probes of `normlab grad --diag` (float32) against the PyTorch reference (float64).

Usage: /usr/bin/python3 tests/reference/test_diagnostics.py PATH/TO/normlab [FILTER]
For each case: `normlab init` a tiny model, `normlab grad --diag D.json` on a random batch, then
recompute every probe of docs/diagnostics.md from model.py in float64 and compare with relative
tolerance 1e-3. The key sets must match exactly: every block's statistics, gradient norms,
attention entropy and one norm_std per normalization the block owns, plus "output". The
training-only members ("step", "params") are allowed; if present they are checked too.

The probes are taken by wrapping model.py's functions at run time (model.py is not changed):
  - block input: the `x` argument of Block.forward. The wrapper passes the block a fresh node
    `x + 0` and keeps its gradient, so for ResiDual block 1 the gradient is the stream's
    (x_0 also seeds the dual stream d_0 = x_0; that identity path is a separate input, not the
    block's, and is excluded).
  - F(u): the return values of Block.A / Block.M (before any output norm, residual or alpha/dt).
  - norm inputs: the `a` argument of model.apply_norm, keyed by its parameter prefix.
  - attention probabilities: recomputed here from the input of Block.A (softmax of the causal
    scaled scores, with the per-head q/k norms for HybridNorm).
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as ref  # noqa: E402
from cli_driver import (BATCH, TINY, CaseError, reference_config, run,  # noqa: E402
                        write_tokens)

TOL = 1e-3
STAT_KEYS = {"rms", "mean_abs", "var", "batch_var"}
BLOCK_KEYS = {"block", "input", "attn_out", "mlp_out", "grad_input", "grad_attn_out",
              "grad_mlp_out", "attn_entropy", "norm_std"}
TOP_KEYS = {"blocks", "output"}
OPTIONAL_TOP_KEYS = {"step", "params"}  # documented for train's diagnostics.jsonl







# --------------------------------------------------------------------------- reference probes
def hidden_stats(h):
    """docs/diagnostics.md: rms, mean |h|, population variance over all entries, and the
    population variance over the batch axis per (position, feature), averaged."""
    h = h.detach()
    return {"rms": float(torch.sqrt((h * h).mean())),
            "mean_abs": float(h.abs().mean()),
            "var": float(h.var(unbiased=False)),
            "batch_var": float(h.var(dim=0, unbiased=False).mean())}


def row_scale(a, kind):
    """Mean over rows (last axis) of the norm input's std (LayerNorm, DyT) or RMS (RMSNorm)."""
    a = a.detach()
    if kind == "rmsnorm":
        return float(torch.sqrt((a * a).mean(-1)).mean())
    return float(a.std(dim=-1, unbiased=False).mean())


def attention_probs(p, prefix, u, cfg, qkv_norm, norm_fn):
    """Causal softmax(q k^T / sqrt(hd)) [B, H, T, T] of the attention at `prefix`."""
    B, T, d = u.shape
    H = cfg["n_heads"]
    hd = d // H
    qkv = u @ p[prefix + ".qkv.weight"].t() + p[prefix + ".qkv.bias"]
    q = qkv[..., :d].reshape(B, T, H, hd).transpose(1, 2)
    k = qkv[..., d:2 * d].reshape(B, T, H, hd).transpose(1, 2)
    if qkv_norm:
        q = norm_fn(cfg["norm"], p, prefix + ".q_norm", q, cfg["norm_eps"])
        k = norm_fn(cfg["norm"], p, prefix + ".k_norm", k, cfg["norm_eps"])
    s = q @ k.transpose(-1, -2) / math.sqrt(hd)
    s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1), float("-inf"))
    return torch.softmax(s, dim=-1)


def entropy(P):
    """Mean over batch, heads and query positions of -sum_j P_ij log P_ij (0 log 0 = 0)."""
    P = P.detach()
    logs = torch.where(P > 0, torch.log(torch.where(P > 0, P, torch.ones_like(P))),
                       torch.zeros_like(P))
    return float((-(P * logs).sum(-1)).mean())


class Recorder:
    """Installs the wrappers on model.py for one forward/backward, then removes them."""

    def __init__(self, m):
        self.m = m
        self.L = len(m.blocks)
        self.inputs = [None] * self.L
        self.attn_in = [None] * self.L
        self.attn_out = [None] * self.L
        self.mlp_out = [None] * self.L
        self.norm_in = [dict() for _ in range(self.L)]
        self.top = None

    def __enter__(self):
        rec = self
        self.orig_A, self.orig_M = ref.Block.A, ref.Block.M
        self.orig_norm = ref.apply_norm
        orig_A, orig_M, orig_norm = self.orig_A, self.orig_M, self.orig_norm

        def A(blk, p, u, qkv_norm=False):
            if rec.attn_out[blk.i] is not None:
                raise CaseError(f"block {blk.l} calls attention twice")
            out = orig_A(blk, p, u, qkv_norm)
            out.retain_grad()
            rec.attn_in[blk.i] = (u.detach(), qkv_norm)
            rec.attn_out[blk.i] = out
            return out

        def M(blk, p, u):
            if rec.mlp_out[blk.i] is not None:
                raise CaseError(f"block {blk.l} calls the MLP twice")
            out = orig_M(blk, p, u)
            out.retain_grad()
            rec.mlp_out[blk.i] = out
            return out

        def apply_norm(kind, p, prefix, a, eps):
            if prefix.startswith("blocks."):
                _, idx, name = prefix.split(".", 2)
                d = rec.norm_in[int(idx)]
                if name in d:
                    raise CaseError(f"{prefix} applied twice")
                d[name] = a.detach()
            return orig_norm(kind, p, prefix, a, eps)

        ref.Block.A, ref.Block.M = A, M
        ref.apply_norm = apply_norm
        for b in self.m.blocks:
            def fwd(p, x, state, _b=b, _f=b.forward):
                xb = x + 0.0  # the block's own input node (see the module docstring)
                xb.retain_grad()
                rec.inputs[_b.i] = xb
                y = _f(p, xb, state)
                if _b.i == rec.L - 1:
                    rec.top = y.detach()
                return y
            b.forward = fwd
        return self

    def __exit__(self, *exc):
        ref.Block.A, ref.Block.M = self.orig_A, self.orig_M
        ref.apply_norm = self.orig_norm
        for b in self.m.blocks:
            del b.forward  # back to the class's method
        return False


def reference_probes(m, params, x, y):
    """(diag dict in the JSON's layout, parameter gradients) of model.py in float64."""
    for t in params.values():
        t.grad = None
    with Recorder(m) as rec:
        loss = m.loss(params, x, y)
        loss.backward()
    cfg = m.cfg
    blocks = []
    for i in range(rec.L):
        if rec.attn_out[i] is None or rec.mlp_out[i] is None:
            raise CaseError(f"reference block {i + 1} has no attention or MLP")
        u, qkv_norm = rec.attn_in[i]
        with torch.no_grad():
            P = attention_probs(params, f"blocks.{i}.attn", u, cfg, qkv_norm, rec.orig_norm)
        blocks.append({
            "block": i + 1,
            "input": hidden_stats(rec.inputs[i]),
            "attn_out": hidden_stats(rec.attn_out[i]),
            "mlp_out": hidden_stats(rec.mlp_out[i]),
            "grad_input": float(torch.linalg.norm(rec.inputs[i].grad)),
            "grad_attn_out": float(torch.linalg.norm(rec.attn_out[i].grad)),
            "grad_mlp_out": float(torch.linalg.norm(rec.mlp_out[i].grad)),
            "attn_entropy": entropy(P),
            "norm_std": {k: row_scale(a, cfg["norm"]) for k, a in rec.norm_in[i].items()},
        })
    grads = {k: t.grad.detach().clone() for k, t in params.items()}
    return {"blocks": blocks, "output": hidden_stats(rec.top)}, grads, float(loss)


# --------------------------------------------------------------------------- comparison
class Comparison:
    def __init__(self):
        self.worst, self.worst_at = 0.0, ""
        self.errors = []

    def num(self, where, got, want):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            self.errors.append(f"{where}: not a number ({got!r})")
            return
        e = abs(got - want) / max(abs(want), 1e-12)
        if not e <= self.worst:  # also catches NaN
            self.worst, self.worst_at = e, where
        if not e <= TOL:
            self.errors.append(f"{where}: normlab {got:.7g} reference {want:.7g} (rel {e:.1e})")

    def keys(self, where, got, want, optional=()):
        if not isinstance(got, dict):
            self.errors.append(f"{where}: not an object")
            return False
        extra = sorted(set(got) - set(want) - set(optional))
        missing = sorted(set(want) - set(got))
        if extra:
            self.errors.append(f"{where}: normlab reports keys the reference does not: {extra}")
        if missing:
            self.errors.append(f"{where}: missing keys {missing}")
        return True

    def stats(self, where, got, want):
        if self.keys(where, got, STAT_KEYS):
            for k in STAT_KEYS & set(got):
                self.num(f"{where}.{k}", got[k], want[k])


def compare(diag, want, grads):
    c = Comparison()
    if not c.keys("top level", diag, TOP_KEYS, OPTIONAL_TOP_KEYS):
        return c
    if "step" in diag and not isinstance(diag["step"], int):
        c.errors.append(f"step: not an integer ({diag['step']!r})")
    if "params" in diag and c.keys("params", diag["params"], grads):
        for name in set(grads) & set(diag["params"]):
            entry = diag["params"][name]
            if c.keys(f"params.{name}", entry, {"grad_norm", "update_ratio"}):
                if "grad_norm" in entry:
                    c.num(f"params.{name}.grad_norm", entry["grad_norm"],
                          float(torch.linalg.norm(grads[name])))
                if "update_ratio" in entry and entry["update_ratio"] != 0:
                    c.errors.append(f"params.{name}.update_ratio: {entry['update_ratio']} but "
                                    "`grad` takes no step")
    if "output" in diag:
        c.stats("output", diag["output"], want["output"])
    got_blocks = diag.get("blocks")
    if not isinstance(got_blocks, list) or len(got_blocks) != len(want["blocks"]):
        c.errors.append(f"blocks: want a list of {len(want['blocks'])}")
        return c
    for gb, wb in zip(got_blocks, want["blocks"]):
        at = f"block {wb['block']}"
        if not c.keys(at, gb, BLOCK_KEYS):
            continue
        if gb.get("block") != wb["block"]:
            c.errors.append(f"{at}: \"block\" is {gb.get('block')!r}")
        for k in ("input", "attn_out", "mlp_out"):
            if k in gb:
                c.stats(f"{at}.{k}", gb[k], wb[k])
        for k in ("grad_input", "grad_attn_out", "grad_mlp_out", "attn_entropy"):
            if k in gb:
                c.num(f"{at}.{k}", gb[k], wb[k])
        if "norm_std" in gb and c.keys(f"{at}.norm_std", gb["norm_std"], wb["norm_std"]):
            for k in set(gb["norm_std"]) & set(wb["norm_std"]):
                c.num(f"{at}.norm_std.{k}", gb["norm_std"][k], wb["norm_std"][k])
    return c


# --------------------------------------------------------------------------- cases
def run_case(exe, tmp, label, cfg, seed):
    cfg_path = os.path.join(tmp, f"{label}.json")
    model_path = os.path.join(tmp, f"{label}.safetensors")
    ids_path = os.path.join(tmp, f"{label}.ids.txt")
    grad_path = os.path.join(tmp, f"{label}.grad.safetensors")
    diag_path = os.path.join(tmp, f"{label}.diag.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    run([exe, "init", "--config", cfg_path, "--seed", str(seed), "--out", model_path])
    write_tokens(ids_path, cfg["vocab_size"], BATCH, cfg["seq_len"], seed + 1000)
    run([exe, "grad", "--model", model_path, "--tokens", ids_path, "--out", grad_path,
         "--diag", diag_path])
    try:
        with open(diag_path) as f:
            diag = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise CaseError(f"--diag output unreadable: {e}")

    model_cfg, params = ref.load_checkpoint(model_path)
    m = ref.Model(reference_config(cfg, model_cfg))
    if m.param_shapes() != {k: list(v.shape) for k, v in params.items()}:
        raise CaseError("checkpoint parameters differ from the reference's (see test_parity.py)")
    x, y = ref.read_token_text(ids_path)
    want, grads, loss = reference_probes(m, params, x, y)
    return compare(diag, want, grads), loss


def cases():
    out = []
    for pl in ["post", "pre", "peri", "b2t", "hybrid", "resi", "mixln", "siamese",
               "completep"]:
        out.append((pl, "layernorm"))
    out += [("hybrid", "rmsnorm"), ("post", "rmsnorm"), ("peri", "dyt"), ("hybrid", "dyt")]
    result = []
    for pl, nm in out:
        cfg = dict(TINY, placement=pl, norm=nm)
        if pl in ("pre", "peri"):
            cfg["dt"] = "0.5"  # the probes must see F(u) before the dt scaling
        if pl == "mixln":
            cfg["lower_fraction"] = 0.5  # blocks 1-2 Post-LN, 3-4 Pre-LN
        result.append((f"{pl}/{nm}", cfg))
    return result


def main():
    if len(sys.argv) < 2:
        print("usage: test_diagnostics.py PATH/TO/normlab [FILTER]")
        return 2
    exe = os.path.abspath(sys.argv[1])
    filt = sys.argv[2] if len(sys.argv) > 2 else ""
    torch.set_default_dtype(torch.float64)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="normlab-diag-") as tmp:
        for i, (label, cfg) in enumerate(cases()):
            if filt and filt not in label:
                continue
            safe = "".join(ch if ch.isalnum() else "_" for ch in label)
            try:
                c, loss = run_case(exe, tmp, safe, cfg, seed=200 + i)
                ok = not c.errors
                print(f"{'PASS' if ok else 'FAIL'} {label}: worst rel err {c.worst:.2e} at "
                      f"{c.worst_at} (ref loss {loss:.6f})", flush=True)
                for e in c.errors[:12]:
                    print(f"    {e}", flush=True)
                if len(c.errors) > 12:
                    print(f"    ... {len(c.errors) - 12} more", flush=True)
            except (CaseError, OSError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
                ok = False
                print(f"FAIL {label}: {type(e).__name__}: {e}", flush=True)
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
