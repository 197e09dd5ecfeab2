"""Parity of `normlab grad` (float32) against the PyTorch reference (float64).

Usage: /usr/bin/python3 tests/reference/test_parity.py PATH/TO/normlab [FILTER]
For every placement x norm (and a few extras): `normlab init` a tiny model, `normlab grad` on a
random batch, then compare the loss and every parameter gradient with model.py. A few cases also
run `--steps 5` and compare the 6 AdamW losses. Relative error of a gradient tensor is
||g_nl - g_ref|| / max(||g_ref||, 1e-3 * ||g_ref||_global) (the floor keeps tensors whose exact
gradient is ~0 from turning float32 round-off into a huge ratio). Tolerance 1e-4.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as ref  # noqa: E402
from cli_driver import (BATCH, TINY, CaseError, check_effective_config,  # noqa: E402
                        product_placements, reference_config, run, write_tokens)
import safetensors_io  # noqa: E402

TOL = 1e-4
NORMS = ["layernorm", "rmsnorm", "dyt"]
# AdamW steps before the final gradient: option `adamw_steps` of the vocabulary (docs/model.md).
STEPS_FLAG = "--adamw-steps"
DT = {"pre": "0.5", "peri": "0.5", "lns": "1/sqrt(L)", "none": "1/L"}







def rel(a, b, floor=0.0):
    return float(torch.linalg.norm(a - b)) / max(float(torch.linalg.norm(b)), floor, 1e-300)


def compare_grads(g_nl, g_ref):
    """Worst relative error over tensors; raises on a name or shape mismatch."""
    missing = sorted(set(g_ref) - set(g_nl))
    extra = sorted(set(g_nl) - set(g_ref))
    if missing or extra:
        raise CaseError(f"gradient names differ: missing {missing[:4]} extra {extra[:4]}")
    total = math.sqrt(sum(float((g ** 2).sum()) for g in g_ref.values()))
    worst, worst_name = 0.0, ""
    for name, gr in g_ref.items():
        gn = torch.tensor(np.asarray(g_nl[name], dtype=np.float64))
        if list(gn.shape) != list(gr.shape):
            raise CaseError(f"{name}: gradient shape {list(gn.shape)} vs {list(gr.shape)}")
        e = rel(gn, gr, 1e-3 * total)
        if not e <= worst:  # also catches NaN
            worst, worst_name = e, name
    return worst, worst_name


def compare_with_reference(m, rcfg, params, batch, grad_path, steps, opt):
    """Checks `normlab grad`'s output (grad_path) for the checkpoint `params` against the reference
    model `m` (config `rcfg`) on `batch` (the arguments after params of ref.loss_and_grads): the
    parameter names and shapes, then the loss and every gradient, or with `steps` the losses of
    that many AdamW steps (settings `opt`). Returns (worst error, where, detail)."""
    want_shapes = m.param_shapes()
    got_shapes = {k: list(v.shape) for k, v in params.items()}
    if want_shapes != got_shapes:
        diff = sorted(set(want_shapes) ^ set(got_shapes))
        bad = diff or [k for k in want_shapes if want_shapes[k] != got_shapes[k]]
        raise CaseError(f"checkpoint parameters differ from the contract: {bad[:4]}")
    g_nl, meta = safetensors_io.read(grad_path)
    if set(g_nl) != set(params):
        raise CaseError(f"grad file names differ from the model's: "
                        f"{sorted(set(g_nl) ^ set(params))[:4]}")

    if any(k.endswith(".omega") for k in params):
        # Admin: `normlab grad` profiled the unprofiled checkpoint on this batch; so does the
        # reference, and the omega each found must agree.
        params = ref.admin_profile(m, params, *batch)
        got = json.loads(meta.get("shortcut_weights", "{}"))
        want = {k: float(v[0]) for k, v in params.items() if k.endswith(".omega")}
        if set(got) != set(want):
            raise CaseError(f"shortcut_weights names {sorted(got)[:3]} vs {sorted(want)[:3]}")
        e = max(abs(got[k] - want[k]) / abs(want[k]) for k in want)
        if not e <= TOL:
            raise CaseError(f"profiled omega differ from the reference's by {e:.2e}: {got} vs "
                            f"{want}")

    if not steps:
        loss, g_ref = ref.loss_and_grads(m, params, *batch)
        if "loss" not in meta:
            raise CaseError("grad output has no 'loss' metadata")
        e_loss = abs(float(meta["loss"]) - loss) / abs(loss)
        worst, name = compare_grads(g_nl, g_ref)
        if not e_loss <= worst:
            worst, name = e_loss, "loss"
        return worst, name, f"loss {float(meta['loss']):.7f} ref {loss:.7f}"

    if "losses" not in meta:
        raise CaseError("grad --adamw-steps output has no 'losses' metadata")
    got = [float(v) for v in json.loads(meta["losses"])]
    full = ref.full_config(rcfg)
    want, g_ref = ref.adamw_losses(m, params, *batch, steps, opt["lr"], full["beta1"],
                                   full["beta2"], opt.get("adam_eps", full["adam_eps"]),
                                   opt["weight_decay"],
                                   opt["clip_norm"], bool(full["decay_all"]))
    if len(got) != steps + 1:
        raise CaseError(f"losses has {len(got)} entries, want {steps + 1}")
    errs = [abs(a - b) / abs(b) for a, b in zip(got, want)]
    k = int(np.argmax(errs))
    g_worst, g_name = compare_grads(g_nl, g_ref)
    detail = (f"losses {got[0]:.6f}..{got[-1]:.6f} ref {want[0]:.6f}..{want[-1]:.6f}; "
              f"final grads (info) worst {g_worst:.2e} at {g_name}")
    return errs[k], f"losses[{k}]", detail


def run_case(exe, tmp, label, cfg, seed, ref_override=None, steps=0, T=None, step_options=None):
    cfg_path = os.path.join(tmp, f"{label}.json")
    model_path = os.path.join(tmp, f"{label}.safetensors")
    ids_path = os.path.join(tmp, f"{label}.ids.txt")
    grad_path = os.path.join(tmp, f"{label}.grad.safetensors")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    run([exe, "init", "--config", cfg_path, "--seed", str(seed), "--out", model_path])
    write_tokens(ids_path, cfg["vocab_size"], BATCH, T or cfg["seq_len"], seed + 1000)
    cmd = [exe, "grad", "--model", model_path, "--tokens", ids_path, "--out", grad_path]
    opt = {}
    if steps:
        opt = dict({"lr": 0.01, "clip_norm": 1.0, "weight_decay": 0.1}, **(step_options or {}))
        cmd += [STEPS_FLAG, str(steps)] + [a for k, v in opt.items() for a in (f"--{k}", str(v))]
    run(cmd)

    # The reference: config from the checkpoint's metadata (what normlab says it built), with the
    # placement resolved by the reference itself (cli_driver.reference_config).
    model_cfg, params = ref.load_checkpoint(model_path)
    check_effective_config(cfg, model_cfg)
    rcfg = reference_config(cfg, model_cfg, ref_override)
    m = ref.Model(rcfg)
    return compare_with_reference(m, rcfg, params, ref.read_token_text(ids_path), grad_path,
                                  steps, opt)


def cases(placements):
    """placements: every placement normlab offers (cli_driver.product_placements)."""
    out = []
    for pl in placements:
        for nm in NORMS:
            cfg = dict(TINY, placement=pl, norm=nm, dt=DT.get(pl, "1"))
            if pl == "mixln":
                cfg["lower_fraction"] = 0.5
            out.append((f"{pl}/{nm}", cfg, {}, 0, None))
    out.append(("pre/layernorm sinusoidal+scale_embedding",
                dict(TINY, placement="pre", norm="layernorm", positions="sinusoidal",
                     scale_embedding=True), {}, 0, None))
    out.append(("post/rmsnorm init gpt2", dict(TINY, placement="post", norm="rmsnorm",
                                               init="gpt2"), {}, 0, None))
    out.append(("b2t/layernorm init small", dict(TINY, placement="b2t", norm="layernorm",
                                                 init="small"), {}, 0, None))
    out.append(("custom block == peri",
                dict(TINY, block="attn:n|nda mlp:n|nda", norm="layernorm", final_norm="true"),
                {"placement": "peri", "final_norm": "true"}, 0, None))
    # Per-layer designs (docs/placements.md): each range follows its own placement's equations.
    for label, block, nm, fn in [("0-1: post, 2-: pre", "0-1: post, 2-: pre", "layernorm", "true"),
                                 ("0: b2t, 1: hybrid, 2: resi, 3: lns",
                                  "0: b2t, 1: hybrid, 2: resi, 3: lns", "rmsnorm", "false"),
                                 ("0: peri, 1-3: post", "0: peri, 1-3: post", "dyt", "false"),
                                 # SiameseNorm's y and ResiDual's d are one second stream
                                 ("0: resi, 1-2: siamese, 3: pre",
                                  "0: resi, 1-2: siamese, 3: pre", "layernorm", "true")]:
        out.append((f"per-layer {label}/{nm}",
                    dict(TINY, placement="custom", block=block, norm=nm, final_norm=fn), {}, 0,
                    None))
    out.append(("pre/dyt residual_alpha 1.3", dict(TINY, placement="pre", norm="dyt",
                                                   residual_alpha="1.3"), {}, 0, None))
    out.append(("siamese/rmsnorm dt 0.5 no final norm",
                dict(TINY, placement="siamese", norm="rmsnorm", dt="0.5", final_norm="false"),
                {}, 0, None))
    out.append(("peri/rmsnorm T=5 < seq_len", dict(TINY, placement="peri", norm="rmsnorm"), {},
                0, 5))
    for pl, nm in [("pre", "layernorm"), ("post", "rmsnorm"), ("hybrid", "dyt"),
                   ("resi", "layernorm"), ("b2t", "layernorm"), ("siamese", "layernorm"),
                   ("ngpt", "layernorm")]:
        out.append((f"{pl}/{nm} --steps 5", dict(TINY, placement=pl, norm=nm), {}, 5, None))
    # CompleteP's optimizer side against torch.optim.AdamW with the paper's param groups: at
    # alpha 0.5 the blocks' lr is scaled by m_L^-1/2 (at alpha 1 it is not), and a large adam_eps
    # makes its m_L^-alpha scaling matter to the losses.
    for label, nm, extra in [("completep/layernorm --steps 5", "layernorm", {}),
                             ("completep/rmsnorm alpha 0.5 base 1 --steps 5", "rmsnorm",
                              {"completep_alpha": "0.5", "completep_base_depth": 1})]:
        out.append((label, dict(TINY, placement="completep", norm=nm, **extra), {}, 5, None,
                    {"adam_eps": 1e-3}))
    out.append(("pre/layernorm completep_alpha 1 dt 0.5",
                dict(TINY, placement="pre", norm="layernorm", dt="0.5", completep_alpha="1"),
                {"placement": "completep"}, 0, None))
    return out


def main():
    if len(sys.argv) < 2:
        print("usage: test_parity.py PATH/TO/normlab [FILTER]")
        return 2
    exe = os.path.abspath(sys.argv[1])
    filt = sys.argv[2] if len(sys.argv) > 2 else ""
    if not os.access(exe, os.X_OK):
        print(f"FAIL cannot run {exe}\n0 passed, 1 failed")
        return 1
    placements = product_placements(exe)  # raises (the test fails) if normlab lists none
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="normlab-parity-") as tmp:
        for i, (label, cfg, override, steps, T, *step_options) in enumerate(cases(placements)):
            if filt and filt not in label:
                continue
            safe = "".join(c if c.isalnum() else "_" for c in label)
            try:
                worst, name, detail = run_case(exe, tmp, safe, cfg, seed=100 + i,
                                               ref_override=override, steps=steps, T=T,
                                               step_options=(step_options or [None])[0])
                ok = worst <= TOL
                print(f"{'PASS' if ok else 'FAIL'} {label}: worst rel err {worst:.2e} at {name}"
                      f" ({detail})", flush=True)
            except (CaseError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
                ok = False
                print(f"FAIL {label}: {type(e).__name__}: {e}", flush=True)
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
