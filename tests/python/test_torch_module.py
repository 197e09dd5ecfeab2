"""normlab.torch against the C++ engine: for every placement (as `normlab options` lists them),
every norm, dt and residual variants, the LM and the encoder-decoder, the module's loss and the
gradient of every parameter (float64) must match `normlab grad` (float32).

usage: test_torch_module.py NORMLAB_BINARY"""
import json
import os
import sys
import tempfile

import numpy as np
import torch

import engine
import normlab.safetensors
import normlab.torch

TINY = {"vocab_size": 40, "d_model": 16, "n_heads": 2, "n_layers": 4, "d_ff": 24, "seq_len": 8}
LOSS_RTOL = 2e-6
GRAD_TOL = 1e-3  # max |difference| relative to the tensor's largest entry (engine in f32)


def cases(binary):
    placements = [p for p in engine.option_choices(binary, "placement")
                  if p != "custom" and p not in normlab.torch.REFUSED]
    assert {"post", "pre", "b2t", "hybrid", "resi"} <= set(placements), placements
    norms = engine.option_choices(binary, "norm")
    assert norms == ["layernorm", "rmsnorm", "dyt"], norms
    for arch in ("lm", "encdec"):
        extra = {"arch": "encdec", "encoder_layers": 3} if arch == "encdec" else {}
        for placement in placements:
            for norm in norms:
                yield dict(TINY, placement=placement, norm=norm, **extra)
        # dt, alpha, embedding scale, positions, Mix-LN's split, and a custom description
        yield dict(TINY, placement="pre", dt="1/sqrt(L)", **extra)
        yield dict(TINY, placement="post", dt="0.3", residual_alpha="1.7", **extra)
        yield dict(TINY, placement="deepnorm", dt="1/L", **extra)
        yield dict(TINY, placement="lns", scale_embedding="true", positions="sinusoidal", **extra)
        yield dict(TINY, placement="mixln", lower_fraction="0.5", norm="rmsnorm", **extra)
        yield dict(TINY, placement="peri", final_norm="false", norm_eps="0.01", **extra)
        yield dict(TINY, block="attn:Nq|ndan mlp:ns|dtab", **extra)
        # CompleteP's residual multiplier (L / L_base)^-alpha with a non-default alpha and base
        yield dict(TINY, placement="completep", completep_alpha="0.5", completep_base_depth="1",
                   dt="0.5", **extra)
    yield dict(TINY, arch="encdec", encoder_layers=2, block="attn:n|da cross:|dan mlp:n|dabn",
               lower_block="attn:q|da cross:s|nda mlp:N|da", lower_fraction="0.5")


def rows_for(config, rng):
    V = config["vocab_size"]
    if config.get("arch") == "encdec":  # rows of different lengths: padding and masks
        lengths = [(5, 6), (3, 7), (6, 4)]
        return [(list(rng.randint(0, V, S)), list(rng.randint(0, V, T + 1))) for S, T in lengths]
    return [list(rng.randint(0, V, 7)) for _ in range(3)]


def module_loss(model, rows):
    if isinstance(rows[0], tuple):
        B = len(rows)
        S = max(len(s) for s, _ in rows)
        T = max(len(t) - 1 for _, t in rows)
        src = torch.zeros(B, S, dtype=torch.long)
        tgt_in = torch.zeros(B, T, dtype=torch.long)
        tgt_out = torch.full((B, T), -1, dtype=torch.long)
        for b, (s, t) in enumerate(rows):
            src[b, :len(s)] = torch.tensor(s)
            tgt_in[b, :len(t) - 1] = torch.tensor(t[:-1])
            tgt_out[b, :len(t) - 1] = torch.tensor(t[1:])
        src_len = torch.tensor([len(s) for s, _ in rows])
        return model(src, src_len, tgt_in, tgt_out)
    ids = torch.tensor(rows, dtype=torch.long)
    return model(ids[:, :-1], ids[:, 1:])


def check(binary, config, seed, workdir):
    path = f"{workdir}/model.safetensors"
    engine.init_perturbed(binary, path, config, seed)
    rows = rows_for(config, np.random.RandomState(seed))
    loss, grads = engine.engine_grad(binary, path, rows, workdir)
    model = normlab.torch.load(path).double()
    mine = module_loss(model, rows)
    mine.backward()
    problems = []
    if abs(mine.item() - loss) > LOSS_RTOL * abs(loss) + 1e-7:
        problems.append(f"loss {mine.item():.9g} vs engine {loss:.9g}")
    params = dict(model.named_parameters())
    if set(params) != set(grads):
        problems.append(f"parameter names differ: {sorted(set(params) ^ set(grads))}")
    # Gradients that are zero in exact arithmetic (k_norm's bias: softmax ignores a shift shared
    # by every key) are compared against the model's largest gradient instead of their own.
    floor = 1e-3 * max(float(np.abs(g).max()) for g in grads.values())
    for name, g in grads.items():
        if name not in params:
            continue
        t = params[name].grad.numpy()
        scale = max(float(np.abs(t).max()), floor)
        err = float(np.abs(t - g).max()) / scale
        if not err <= GRAD_TOL:
            problems.append(f"{name}: max |grad difference| / max |grad| = {err:.2e}")
    return problems


def refusals(binary):
    """Every placement the module refuses is one the engine offers, and the module says so with a
    ValueError naming it (for the preset and for a checkpoint's written-out block)."""
    offered = engine.option_choices(binary, "placement")
    problems = []
    for placement in normlab.torch.REFUSED:
        if placement not in offered:
            problems.append(f"REFUSED lists '{placement}', which normlab does not offer")
        for config in (dict(TINY, placement=placement, norm="layernorm", scale_embedding=False,
                            positions="learned"),
                       dict(TINY, placement="custom", block="attn:u|dh mlp:u|dh")):
            try:
                normlab.torch.from_config(config)
                problems.append(f"{config}: built a module")
            except ValueError as e:
                if "normlab.torch" not in str(e) or "nGPT" not in str(e):
                    problems.append(f"{config}: unclear refusal: {e}")
    return problems


def unprofiled_admin_refused(binary, workdir):
    """Admin's omega come from normlab's profiling pass, which the module does not run: a
    checkpoint that was never profiled (`normlab init`) is refused with a ValueError saying so."""
    path = f"{workdir}/admin-init.safetensors"
    engine.run(binary, "init", "--placement", "admin", *[a for k, v in TINY.items()
                                                         for a in (f"--{k}", str(v))],
               "-o", path)
    try:
        normlab.torch.load(path)
        return [f"{path}: an unprofiled Admin checkpoint built a module"]
    except ValueError as e:
        return [] if "never profiled" in str(e) else [f"unclear refusal: {e}"]


def run_directory_loads(binary, workdir):
    """A run directory stands for its checkpoint.safetensors, as for the CLI."""
    run = f"{workdir}/run"
    os.makedirs(run, exist_ok=True)
    engine.init_perturbed(binary, f"{run}/checkpoint.safetensors", TINY, 7)
    a = normlab.torch.load(run).state_dict()
    b = normlab.torch.load(f"{run}/checkpoint.safetensors").state_dict()
    if a.keys() != b.keys() or any(not torch.equal(a[k], b[k]) for k in a):
        return [f"{run}: the directory and its checkpoint load different modules"]
    return []


def check_optimizer_groups(binary, config, seed, workdir):
    """normlab.torch.optimizer_groups: 3 torch.optim.AdamW steps on one batch give the losses of
    `normlab grad --adamw-steps 3` (CompleteP's per-stack lr and eps; a large eps so that its
    scaling shows)."""
    path = f"{workdir}/model.safetensors"
    engine.init_perturbed(binary, path, config, seed)
    rows = rows_for(config, np.random.RandomState(seed))
    tokens, out = f"{workdir}/tokens.txt", f"{workdir}/steps.safetensors"
    with open(tokens, "w") as f:
        for row in rows:
            f.write((" ".join(map(str, row[0])) + " | " + " ".join(map(str, row[1])))
                    if isinstance(row, tuple) else " ".join(map(str, row)))
            f.write("\n")
    opt = {"lr": 0.01, "adam_eps": 1e-3, "weight_decay": 0.1, "clip_norm": 0}
    engine.run(binary, "grad", "-m", path, "--tokens", tokens, "-o", out, "--adamw-steps", "3",
               *[a for k, v in opt.items() for a in (f"--{k}", str(v))])
    want = [float(v) for v in json.loads(normlab.safetensors.read(out)[1]["losses"])]
    model = normlab.torch.load(path).double()
    adamw = torch.optim.AdamW(
        normlab.torch.optimizer_groups(model, opt["lr"], opt["adam_eps"], opt["weight_decay"]),
        lr=opt["lr"], betas=(0.9, 0.98))
    got = []
    for _ in range(4):
        adamw.zero_grad()
        loss = module_loss(model, rows)
        got.append(loss.item())
        loss.backward()
        adamw.step()
    return [f"losses {got} vs engine {want}"] if not np.allclose(got, want, rtol=1e-5) else []


def main():
    binary = sys.argv[1]
    failures, count = [], 0
    for problem in refusals(binary):
        print("FAIL " + problem)
        failures.append(problem)
    with tempfile.TemporaryDirectory() as workdir:
        for problem in unprofiled_admin_refused(binary, workdir) + run_directory_loads(binary,
                                                                                    workdir):
            print("FAIL " + problem)
            failures.append(problem)
        for seed, config in enumerate(cases(binary), start=1):
            count += 1
            problems = check(binary, config, seed, workdir)
            label = " ".join(f"{k}={v}" for k, v in config.items() if k not in TINY)
            print(("FAIL " if problems else "ok   ") + label)
            failures += [f"{label}: {p}" for p in problems]
        for arch in ({}, {"arch": "encdec", "encoder_layers": 3}):
            count += 1
            config = dict(TINY, placement="completep", completep_alpha="0.5",
                          completep_base_depth="1", **arch)
            problems = check_optimizer_groups(binary, config, 100 + count, workdir)
            label = "optimizer_groups " + " ".join(f"{k}={v}" for k, v in config.items()
                                                   if k not in TINY)
            print(("FAIL " if problems else "ok   ") + label)
            failures += [f"{label}: {p}" for p in problems]
    if failures:
        print("\n".join(failures[:40]))
        sys.exit(1)
    print(f"{count} configurations: loss and every gradient match the engine")


if __name__ == "__main__":
    main()
