"""Parity of `normlab grad` on a Transformer encoder-decoder (float32) against the PyTorch
reference EncDecModel (float64), and self-checks of that reference.

Usage: /usr/bin/python3 tests/reference/test_parity_encdec.py PATH/TO/normlab [FILTER]
       /usr/bin/python3 tests/reference/test_parity_encdec.py --self-check
Parity: for every placement x norm (and a few extras), `normlab init` a tiny encoder-decoder
(3 encoder blocks, 2 decoder blocks, so that a per-stack depth mixed up with the other stack's
shows), `normlab grad` on `SRC | TGT` rows of different lengths (padding and masks exercised),
then compare the loss and every parameter gradient with model.py. Most cases leave
`label_smoothing` at auto (0.1 for arch=encdec); a few pass `--label_smoothing 0` or 0.2, and
a few run `--adamw-steps`. Errors as test_parity.py:
relative, per tensor, floored at 1e-3 of the global gradient norm; tolerance 1e-4. The
self-checks run first (they need no binary); a failing self-check fails the run.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as ref  # noqa: E402
from cli_driver import (TINY, CaseError, check_effective_config,  # noqa: E402
                        product_placements, reference_config, run, write_pair_tokens)
from test_parity import DT, NORMS, TOL, compare_with_reference  # noqa: E402

# Different depths per stack; lower_fraction 0.67 gives Mix-LN 2 of 3 encoder blocks and 1 of 2
# decoder blocks in Post-LN.
TINY_ED = dict(TINY, arch="encdec", encoder_layers=3, n_layers=2)
# (S_b, T_b) per row: every row is padded somewhere on one side or the other.
LENGTHS = [(8, 5), (3, 8), (6, 2)]
FULL_LENGTHS = [(8, 8), (8, 8)]
STEPS = 5
# `label_smoothing: auto` for arch=encdec (options.cpp: fairseq's translation recipe).
AUTO_SMOOTHING = 0.1
# Placements defined for the decoder-only LM only: normlab must refuse them for arch=encdec with
# one error line (refusal_cases), and the parity cases skip them.
LM_ONLY = {"ngpt": "arch=lm only"}


# =========================================================================== self-checks
SMALL = {"vocab_size": 11, "d_model": 8, "n_heads": 2, "n_layers": 2, "encoder_layers": 2,
         "d_ff": 12, "seq_len": 5, "arch": "encdec"}
SMALL_PAIRS = [([1, 2, 3, 4, 5], [6, 7, 8, 9]), ([3, 9], [2, 10, 1, 4, 5, 6])]
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'PASS' if ok else 'FAIL'} self-check {name} {detail}", flush=True)


def max_diff(ga, gb):
    return max(float((ga[k] - gb[k]).abs().max()) for k in ga)


def gradcheck_case(placement, norm, smoothing=0.0, **extra):
    cfg = dict(SMALL, placement=placement, norm=norm, **extra)
    m = ref.EncDecModel(cfg, smoothing=smoothing)
    params = ref.random_params(m, seed=1)
    names = list(params)
    inputs, targets = ref.pad_pairs(SMALL_PAIRS)

    def f(*ts):
        return m.loss(dict(zip(names, ts)), inputs, targets)

    # fast_mode compares a random projection u^T J v of the numerical and analytical
    # Jacobians (any wrong entry shows with probability 1), 30x faster than the full Jacobian.
    ok = torch.autograd.gradcheck(f, tuple(params[n] for n in names), eps=1e-6, atol=1e-6,
                                  rtol=1e-5, raise_exception=False, fast_mode=True)
    check(f"gradcheck {placement}/{norm} smoothing {smoothing} {extra or ''}", ok)


def masking_invariance(placement, norm):
    """Padded source ids and padded decoder inputs must not change the loss or any gradient;
    a real source id must (the control that shows the check can fail)."""
    m = ref.EncDecModel(dict(SMALL, placement=placement, norm=norm), smoothing=0.1)
    params = ref.random_params(m, seed=2)
    (src, mask, tin), tout = ref.pad_pairs(SMALL_PAIRS)
    l0, g0 = ref.loss_and_grads(m, params, (src, mask, tin), tout)
    src2, tin2 = src.clone(), tin.clone()
    src2[~mask] = 7
    tin2[tout < 0] = 9
    l1, g1 = ref.loss_and_grads(m, params, (src2, mask, tin2), tout)
    src3 = src.clone()
    src3[1, 1] = (src3[1, 1] + 1) % 11
    l2, _ = ref.loss_and_grads(m, params, (src3, mask, tin), tout)
    check(f"padding ids change nothing ({placement}/{norm})",
          abs(l0 - l1) <= 1e-13 and max_diff(g0, g1) <= 1e-13 and abs(l0 - l2) > 1e-6,
          f"dloss {abs(l0 - l1):.1e} dgrad {max_diff(g0, g1):.1e} control {abs(l0 - l2):.1e}")


def rows_are_independent(placement, norm):
    """A padded batch equals its rows run alone: loss = sum_b n_b loss_b / sum_b n_b (n_b the
    row's target count), and the same weighted sum of gradients."""
    m = ref.EncDecModel(dict(SMALL, placement=placement, norm=norm))
    params = ref.random_params(m, seed=4)
    l, g = ref.loss_and_grads(m, params, *ref.pad_pairs(SMALL_PAIRS))
    counts = [len(t) - 1 for _, t in SMALL_PAIRS]
    lw, gw = 0.0, {k: torch.zeros_like(v) for k, v in g.items()}
    for (s, t), n in zip(SMALL_PAIRS, counts):
        lb, gb = ref.loss_and_grads(m, params, *ref.pad_pairs([(s, t)]))
        lw += n * lb / sum(counts)
        for k in gw:
            gw[k] += n * gb[k] / sum(counts)
    check(f"padded batch == rows alone ({placement}/{norm})",
          abs(l - lw) <= 1e-12 and max_diff(g, gw) <= 1e-12,
          f"dloss {abs(l - lw):.1e} dgrad {max_diff(g, gw):.1e}")


def causality():
    """The encoder sees the whole source (changing the last source id moves its output at
    position 0); the decoder is causal (changing input t moves no position < t)."""
    m = ref.EncDecModel(dict(SMALL, placement="pre"))
    params = ref.random_params(m, seed=5)
    src = torch.tensor([[1, 2, 3, 4, 5]])
    mask = torch.ones(1, 5, dtype=torch.bool)
    tin = torch.tensor([[6, 7, 8, 9]])
    with torch.no_grad():
        a = m.logits(params, (src, mask, tin))
        c = m.logits(params, (src, mask, torch.tensor([[6, 7, 3, 9]])))
        ea = m.encode(params, src, mask)
        eb = m.encode(params, torch.tensor([[1, 2, 3, 4, 6]]), mask)
    check("encoder is not causal", float((ea[0, 0] - eb[0, 0]).abs().max()) > 1e-6)
    check("decoder is causal", float((a[0, :2] - c[0, :2]).abs().max()) == 0.0
          and float((a[0, 2] - c[0, 2]).abs().max()) > 1e-6)


def cross_attention_vs_torch():
    """model.cross_attention against torch's own multi-head attention (separate q/k/v
    projections, key_padding_mask True = ignore)."""
    cfg = ref.full_config(SMALL)
    d, B, T, S = 8, 2, 3, 4
    g = torch.Generator().manual_seed(6)
    p = {n: torch.randn(*s, generator=g, dtype=torch.float64) for n, s in
         [("c.q.weight", (d, d)), ("c.q.bias", (d,)), ("c.kv.weight", (2 * d, d)),
          ("c.kv.bias", (2 * d,)), ("c.proj.weight", (d, d)), ("c.proj.bias", (d,))]}
    u = torch.randn(B, T, d, generator=g, dtype=torch.float64)
    mem = torch.randn(B, S, d, generator=g, dtype=torch.float64)
    mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    got = ref.cross_attention(p, "c", u, mem, mask, cfg)
    want, _ = F.multi_head_attention_forward(
        u.transpose(0, 1), mem.transpose(0, 1), mem.transpose(0, 1), d, cfg["n_heads"],
        None, torch.cat([p["c.q.bias"], p["c.kv.bias"]]), None, None, False, 0.0,
        p["c.proj.weight"], p["c.proj.bias"], training=False, key_padding_mask=~mask,
        need_weights=False, use_separate_proj_weight=True, q_proj_weight=p["c.q.weight"],
        k_proj_weight=p["c.kv.weight"][:d], v_proj_weight=p["c.kv.weight"][d:])
    check("cross_attention == torch multi_head_attention_forward",
          float((got - want.transpose(0, 1)).abs().max()) < 1e-12)


def b2t_literal():
    """B2TBlock against docs/placements.md's formulas written out: decoder h1 = N1(x + A(x)),
    h2 = N2(h1 + C(h1, m)), y = N3(M(h2) + h2 + x); encoder y = N2(x + h + M(h))."""
    m = ref.EncDecModel(dict(SMALL, placement="b2t", norm="layernorm"))
    p = ref.random_params(m, seed=8)
    (src, mask, tin), _ = ref.pad_pairs(SMALL_PAIRS)
    g = torch.Generator().manual_seed(9)
    x = torch.randn(2, tin.shape[1], 8, generator=g, dtype=torch.float64)
    xe = torch.randn(2, src.shape[1], 8, generator=g, dtype=torch.float64)
    mem = torch.randn(2, src.shape[1], 8, generator=g, dtype=torch.float64)
    cfg = m.cfg

    def N(name, a):
        return ref.apply_norm("layernorm", p, name, a, cfg["norm_eps"])

    pre = "decoder.blocks.1."
    h1 = N(pre + "attn.norm_post", x + ref.attention(p, pre + "attn", x, cfg))
    h2 = N(pre + "cross.norm_post", h1 + ref.cross_attention(p, pre + "cross", h1, mem, mask, cfg))
    want = N(pre + "mlp.norm_post", ref.mlp(p, pre + "mlp", h2) + h2 + x)
    blk = m.decoder.blocks[1]
    blk.ctx = {"memory": mem, "memory_mask": mask}
    got = blk.forward(p, x, {})
    pre = "encoder.blocks.0."
    h = N(pre + "attn.norm_post", xe + ref.attention(p, pre + "attn", xe, cfg, causal=False,
                                                     key_mask=mask))
    want_e = N(pre + "mlp.norm_post", xe + h + ref.mlp(p, pre + "mlp", h))
    blk = m.encoder.blocks[0]
    blk.ctx = {"self_mask": mask}
    got_e = blk.forward(p, xe, {})
    check("B2T decoder and encoder blocks == the written-out formulas",
          float((got - want).abs().max()) < 1e-12 and float((got_e - want_e).abs().max()) < 1e-12)


def per_stack_constants():
    N, M = 3, 2
    base = dict(SMALL, encoder_layers=N, n_layers=M)
    m = ref.EncDecModel(dict(base, placement="deepnorm"))
    ae, ad = 0.81 * (N ** 4 * M) ** (1 / 16), (3 * M) ** 0.25
    check("deepnorm alphas: encoder 0.81 (N^4 M)^(1/16), decoder (3M)^(1/4)",
          all(abs(b.alpha - ae) < 1e-15 for b in m.encoder.blocks)
          and all(abs(b.alpha - ad) < 1e-15 for b in m.decoder.blocks) and abs(ae - ad) > 0.1)
    m = ref.EncDecModel(dict(base, placement="deepnorm", residual_alpha="1.3"))
    check("residual_alpha number sets both stacks",
          all(b.alpha == 1.3 for b in m.encoder.blocks + m.decoder.blocks))
    m = ref.EncDecModel(dict(base, placement="pre", dt="1/L"))
    check("dt 1/L per stack", all(b.dt == 1 / N for b in m.encoder.blocks)
          and all(b.dt == 1 / M for b in m.decoder.blocks))
    m = ref.EncDecModel(dict(base, placement="mixln", lower_fraction=0.67))
    kinds = ([type(b).__name__ for b in m.encoder.blocks],
             [type(b).__name__ for b in m.decoder.blocks])
    check("mixln split per stack", kinds == (["PostBlock", "PostBlock", "PreBlock"],
                                             ["PostBlock", "PreBlock"]), str(kinds))
    m = ref.EncDecModel(dict(base, placement="lns"))
    check("lns depth index per stack", [b.l for b in m.decoder.blocks] == [1, 2])


def names():
    s = ref.EncDecModel(dict(SMALL, placement="hybrid", norm="rmsnorm")).param_shapes()
    ok = (s["decoder.blocks.0.cross.q.weight"] == [8, 8]
          and s["decoder.blocks.0.cross.kv.weight"] == [16, 8]
          and s["decoder.blocks.0.cross.kv.bias"] == [16]
          and s["decoder.blocks.1.cross.k_norm.weight"] == [4]
          and s["encoder.pos_emb.weight"] == [5, 8] and s["decoder.pos_emb.weight"] == [5, 8]
          and "encoder.final_norm.weight" in s and "decoder.final_norm.weight" in s
          and not any(k.startswith("encoder.") and ".cross." in k for k in s)
          and not any(k.startswith(("blocks.", "pos_emb", "final_norm")) for k in s))
    r = ref.EncDecModel(dict(SMALL, placement="resi", positions="sinusoidal")).param_shapes()
    ok = ok and ("encoder.resi_norm.weight" in r and "decoder.resi_norm.weight" in r
                 and not any("final_norm" in k or "pos_emb" in k for k in r))
    b = ref.EncDecModel(dict(SMALL, placement="b2t")).param_shapes()
    ok = ok and ("decoder.blocks.0.cross.norm_post.weight" in b
                 and not any("final_norm" in k for k in b))
    check("parameter names and shapes follow the contract", ok)


def smoothing_matches_torch():
    g = torch.Generator().manual_seed(10)
    z = torch.randn(2, 3, 7, generator=g, dtype=torch.float64)
    y = torch.tensor([[1, -1, 6], [0, 2, -1]])
    got = ref.smoothed_cross_entropy(z, y, 0.1)
    want = F.cross_entropy(z.reshape(-1, 7), y.reshape(-1), ignore_index=-1,
                           label_smoothing=0.1)
    check("label-smoothed loss == torch cross_entropy(label_smoothing)",
          abs(float(got - want)) < 1e-14)


def custom_per_sublayer():
    """PerSublayerBlock with every sublayer 'peri' equals the peri preset."""
    a = ref.EncDecModel(dict(SMALL, placement="peri", norm="dyt"))
    b = ref.EncDecModel(dict(SMALL, placement="peri", norm="dyt", sublayer_placements={
        "attn": "peri", "cross": "peri", "mlp": "peri"}))
    p = ref.random_params(a, seed=12)
    batch = ref.pad_pairs(SMALL_PAIRS)
    same = a.param_shapes() == b.param_shapes() and abs(
        float(a.loss(p, *batch) - b.loss(p, *batch))) < 1e-14
    check("per-sublayer rules 'peri' everywhere == peri preset", same)


def self_check():
    t0 = time.time()
    names()
    per_stack_constants()
    smoothing_matches_torch()
    cross_attention_vs_torch()
    causality()
    b2t_literal()
    custom_per_sublayer()
    for pl, nm in [("post", "layernorm"), ("hybrid", "dyt"), ("resi", "rmsnorm"),
                   ("b2t", "layernorm")]:
        masking_invariance(pl, nm)
    for pl, nm in [("peri", "rmsnorm"), ("resi", "layernorm"), ("hybrid", "layernorm")]:
        rows_are_independent(pl, nm)
    for pl, nm, sm, ex in [("post", "layernorm", 0.1, {}), ("b2t", "dyt", 0.0, {}),
                           ("hybrid", "rmsnorm", 0.0, {}), ("resi", "layernorm", 0.1, {}),
                           ("lns", "dyt", 0.0, {"dt": "1/sqrt(L)"}),
                           ("deepnorm", "rmsnorm", 0.0, {"encoder_layers": 3}),
                           ("mixln", "layernorm", 0.0, {"lower_fraction": 0.5}),
                           ("peri", "layernorm", 0.0, {"positions": "sinusoidal",
                                                       "scale_embedding": True}),
                           ("none", "rmsnorm", 0.0, {"dt": "1/L"}),
                           ("siamese", "layernorm", 0.1, {})]:
        gradcheck_case(pl, nm, sm, **ex)
    failed = results.count(False)
    print(f"self-check: {len(results) - failed} passed, {failed} failed "
          f"({time.time() - t0:.0f} s)", flush=True)
    return failed == 0


# =========================================================================== parity
def run_case(exe, tmp, label, cfg, seed, lengths, ref_override=None, steps=0, smoothing=None,
             step_options=None):
    """smoothing None: no flag, `label_smoothing: auto`, documented as 0.1 for arch=encdec."""
    cfg_path = os.path.join(tmp, f"{label}.json")
    model_path = os.path.join(tmp, f"{label}.safetensors")
    ids_path = os.path.join(tmp, f"{label}.pairs.txt")
    grad_path = os.path.join(tmp, f"{label}.grad.safetensors")
    with open(cfg_path, "w") as f:
        f.write(json.dumps(cfg))
    run([exe, "init", "--config", cfg_path, "--seed", str(seed), "--out", model_path])
    write_pair_tokens(ids_path, cfg["vocab_size"], lengths, seed + 1000)
    cmd = [exe, "grad", "--model", model_path, "--tokens", ids_path, "--out", grad_path]
    if smoothing is not None:
        cmd += ["--label_smoothing", str(smoothing)]
    opt = {}
    if steps:
        opt = dict({"lr": 0.01, "clip_norm": 1.0, "weight_decay": 0.1}, **(step_options or {}))
        cmd += ["--adamw-steps", str(steps)]
        cmd += [a for k, v in opt.items() for a in (f"--{k}", str(v))]
    run(cmd)

    model_cfg, params = ref.load_checkpoint(model_path)
    check_effective_config(cfg, model_cfg)
    rcfg = reference_config(cfg, model_cfg, ref_override)
    m = ref.make_model(rcfg, smoothing=AUTO_SMOOTHING if smoothing is None else smoothing)
    return compare_with_reference(m, rcfg, params, ref.read_pair_text(ids_path), grad_path,
                                  steps, opt)


def cases(placements):
    """(label, config, reference override, AdamW steps, row lengths, label smoothing or None for
    the default), for every placement normlab offers (cli_driver.product_placements)."""
    out = []
    for pl in placements:
        if pl in LM_ONLY:
            continue
        for nm in NORMS:
            cfg = dict(TINY_ED, placement=pl, norm=nm, dt=DT.get(pl, "1"))
            if pl == "mixln":
                cfg["lower_fraction"] = 0.67
            out.append((f"{pl}/{nm}", cfg, {}, 0, LENGTHS, None))
    out.append(("post/layernorm rows without padding",
                dict(TINY_ED, placement="post", norm="layernorm"), {}, 0, FULL_LENGTHS, None))
    out.append(("b2t/rmsnorm rows without padding",
                dict(TINY_ED, placement="b2t", norm="rmsnorm"), {}, 0, FULL_LENGTHS, None))
    out.append(("pre/layernorm sinusoidal+scale_embedding",
                dict(TINY_ED, placement="pre", norm="layernorm", positions="sinusoidal",
                     scale_embedding=True), {}, 0, LENGTHS, None))
    out.append(("deepnorm/layernorm residual_alpha 1.3 (both stacks)",
                dict(TINY_ED, placement="deepnorm", norm="layernorm", residual_alpha="1.3"),
                {}, 0, LENGTHS, None))
    out.append(("post/layernorm dt 1/L (per stack)",
                dict(TINY_ED, placement="post", norm="layernorm", dt="1/L"), {}, 0, LENGTHS,
                None))
    out.append(("b2t/layernorm deeper encoder (N=4, M=1)",
                dict(TINY_ED, placement="b2t", norm="layernorm", encoder_layers=4, n_layers=1),
                {}, 0, LENGTHS, None))
    out.append(("custom block without cross == peri",
                dict(TINY_ED, block="attn:n|nda mlp:n|nda", norm="layernorm",
                     final_norm="true"),
                {"placement": "peri", "final_norm": "true"}, 0, LENGTHS, None))
    out.append(("custom block attn:n|da cross:|dan mlp:n|da",
                dict(TINY_ED, block="attn:n|da cross:|dan mlp:n|da", norm="rmsnorm",
                     final_norm="true"),
                {"final_norm": "true", "sublayer_placements":
                    {"attn": "pre", "cross": "post", "mlp": "pre"}}, 0, LENGTHS, None))
    # Per-layer designs: one list for both stacks, each resolved with its own depth.
    for block, nm, fn in [("0: post, 1-: pre", "layernorm", "true"),
                          ("0: b2t, 1-: peri", "rmsnorm", "false"),
                          ("0: hybrid, 1-: resi", "dyt", "false"),
                          ("0: pre, 1-: siamese", "rmsnorm", "false")]:
        out.append((f"per-layer {block}/{nm}",
                    dict(TINY_ED, placement="custom", block=block, norm=nm, final_norm=fn), {},
                    0, LENGTHS, None))
    out.append(("post/dyt init gpt2", dict(TINY_ED, placement="post", norm="dyt", init="gpt2"),
                {}, 0, LENGTHS, None))
    for pl, nm in [("pre", "layernorm"), ("b2t", "layernorm"), ("resi", "rmsnorm"),
                   ("hybrid", "dyt"), ("siamese", "layernorm")]:
        out.append((f"{pl}/{nm} --adamw-steps {STEPS}", dict(TINY_ED, placement=pl, norm=nm),
                    {}, STEPS, LENGTHS, None))
    # CompleteP per stack (encoder m_L = 4/2, decoder 2/2 at the default L_base 2; at alpha 0.5
    # both lr and eps differ between the stacks), against torch.optim.AdamW param groups.
    out.append((f"completep/layernorm alpha 0.5 --adamw-steps {STEPS}",
                dict(TINY_ED, placement="completep", norm="layernorm", completep_alpha="0.5",
                     encoder_layers=4), {}, STEPS, LENGTHS, None, {"adam_eps": 1e-3}))
    out.append(("post/layernorm --label_smoothing 0",
                dict(TINY_ED, placement="post", norm="layernorm"), {}, 0, LENGTHS, 0.0))
    out.append(("b2t/rmsnorm --label_smoothing 0",
                dict(TINY_ED, placement="b2t", norm="rmsnorm"), {}, 0, LENGTHS, 0.0))
    out.append(("pre/dyt --label_smoothing 0.2",
                dict(TINY_ED, placement="pre", norm="dyt"), {}, 0, LENGTHS, 0.2))
    return out


def refusal_cases(exe, tmp):
    """(label, ok, detail) for each LM-only placement: `normlab init` of an encoder-decoder with
    it must exit non-zero with one line `normlab: error: ...` naming the restriction, and leave
    no model file."""
    out = []
    for pl, why in LM_ONLY.items():
        cfg_path = os.path.join(tmp, f"refuse_{pl}.json")
        model_path = os.path.join(tmp, f"refuse_{pl}.safetensors")
        with open(cfg_path, "w") as f:
            json.dump(dict(TINY_ED, placement=pl), f)
        r = subprocess.run([exe, "init", "--config", cfg_path, "--out", model_path],
                           capture_output=True, text=True, timeout=60)
        lines = r.stderr.strip().splitlines()
        ok = (r.returncode != 0 and len(lines) == 1 and lines[0].startswith("normlab: error: ")
              and why in lines[0] and not os.path.exists(model_path))
        out.append((f"{pl} refused for arch=encdec", ok, f"exit {r.returncode}: {r.stderr.strip()}"))
    return out


def main():
    if len(sys.argv) < 2:
        print("usage: test_parity_encdec.py PATH/TO/normlab [FILTER] | --self-check")
        return 2
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a shared machine
    ok_self = self_check()
    if sys.argv[1] == "--self-check":
        return 0 if ok_self else 1
    exe = os.path.abspath(sys.argv[1])
    filt = sys.argv[2] if len(sys.argv) > 2 else ""
    try:
        help_text = subprocess.run([exe, "grad", "--help"], capture_output=True, text=True,
                                   timeout=60).stdout
    except OSError as e:
        print(f"FAIL cannot run {exe}: {e}\n0 passed, 1 failed")
        return 1
    placements = product_placements(exe)  # raises (the test fails) if normlab lists none
    passed, failed = 0, 0 if ok_self else 1
    if "--label_smoothing" not in help_text:
        print("FAIL `normlab grad --help` lists no --label_smoothing (the cases below pass it)")
        failed += 1
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="normlab-parity-encdec-") as tmp:
        for label, ok, detail in refusal_cases(exe, tmp):
            if filt and filt not in label:
                continue
            print(f"{'PASS' if ok else 'FAIL'} {label} ({detail})", flush=True)
            passed += ok
            failed += not ok
        for i, (label, cfg, override, steps, lengths, sm, *step_options) in enumerate(
                cases(placements)):
            if filt and filt not in label:
                continue
            safe = "".join(c if c.isalnum() else "_" for c in label)
            try:
                worst, name, detail = run_case(exe, tmp, safe, cfg, 200 + i, lengths, override,
                                               steps, sm, (step_options or [None])[0])
                ok = worst <= TOL
                print(f"{'PASS' if ok else 'FAIL'} {label}: worst rel err {worst:.2e} at {name}"
                      f" ({detail})", flush=True)
            except (CaseError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
                ok = False
                print(f"FAIL {label}: {type(e).__name__}: {e}", flush=True)
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed ({time.time() - t0:.0f} s"
          f"{'' if ok_self else '; the self-checks failed'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
