"""`normlab export --format hf-gpt2`: the exported files, run through a transcription of GPT-2's
forward (gpt2_forward.py), give normlab's loss for every checkpoint GPT-2 can express; every other
checkpoint is refused with one line naming the property and nothing written; the tokenizer is
shipped byte for byte.

usage: test_hf_gpt2_export.py NORMLAB_BINARY"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import engine
import gpt2_forward
from normlab import safetensors

TINY = {"vocab_size": 40, "d_model": 16, "n_heads": 2, "n_layers": 3, "d_ff": 24, "seq_len": 8}

# Checkpoints GPT-2 can express: Pre-LN, LayerNorm (any eps), learned positions, dt 1, alpha 1, no
# embedding scale; the MLP width is GPT-2's n_inner, dropout its resid/embd_pdrop.
EXPRESSIBLE = [
    dict(TINY),
    dict(TINY, norm_eps="0.001", d_ff=40, dropout="0.1"),
    dict(TINY, block="attn:n|a mlp:n|da"),
    dict(TINY, placement="mixln", lower_fraction="0.2"),  # floor(0.2 * 3) = 0 Post-LN blocks
    dict(TINY, placement="pre", residual_alpha="1", dt="1.0", init="gpt2"),
]
# Checkpoints it cannot, with the property the refusal must name.
INEXPRESSIBLE = [(dict(TINY, placement=p), "placement " + p) for p in
                 ("post", "peri", "b2t", "deepnorm", "lns", "hybrid", "resi", "none",
                  "siamese", "subln")] + [
    (dict(TINY, placement="mixln", n_layers=4), "placement mixln"),  # block 0 is Post-LN
    (dict(TINY, norm="rmsnorm"), "norm=rmsnorm"),
    (dict(TINY, norm="dyt"), "norm=dyt"),
    (dict(TINY, positions="sinusoidal"), "positions=sinusoidal"),
    (dict(TINY, scale_embedding="true"), "scale_embedding=true"),
    (dict(TINY, dt="0.5"), "dt=0.5"),
    (dict(TINY, dt="1/L"), "dt=1/L"),
    (dict(TINY, residual_alpha="1.5"), "residual_alpha=1.5"),
    (dict(TINY, final_norm="false"), "final_norm=false"),
    (dict(TINY, block="attn:n|nda mlp:n|da"), "block 0 'attn:n|nda mlp:n|da' of placement custom"),
    (dict(TINY, placement="deepnorm"), "residual_alpha=1.56508"),
    (dict(TINY, arch="encdec", encoder_layers=2), "arch=encdec"),
]

failures = []


def expect(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def export(binary, ckpt, out):
    return subprocess.run([binary, "export", "--format", "hf-gpt2", ckpt, out],
                          capture_output=True, text=True)


def expected_names(L):
    names = {"transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight",
             "transformer.ln_f.bias"}
    for i in range(L):
        for n in ("ln_1", "ln_2", "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
            names |= {f"transformer.h.{i}.{n}.weight", f"transformer.h.{i}.{n}.bias"}
    return names


def check_expressible(binary, config, seed, work):
    label = " ".join(f"{k}={v}" for k, v in config.items() if k not in TINY or v != TINY[k])
    ckpt, out = f"{work}/m{seed}.safetensors", f"{work}/hf{seed}"
    engine.init_perturbed(binary, ckpt, config, seed)
    r = export(binary, ckpt, out)
    expect(r.returncode == 0, f"export {label or 'pre'} exits 0 ({r.stderr.strip()})")
    if r.returncode:
        return
    weights, hf = gpt2_forward.load(out)
    d, ff = config["d_model"], config["d_ff"]
    expect(set(weights) == expected_names(config["n_layers"]), f"{label}: GPT-2's tensor names")
    expect(list(weights["transformer.h.0.attn.c_attn.weight"].shape) == [d, 3 * d] and
           list(weights["transformer.h.0.mlp.c_fc.weight"].shape) == [d, ff] and
           list(weights["transformer.h.0.mlp.c_proj.weight"].shape) == [ff, d],
           f"{label}: Conv1D weights are [in, out]")
    expect(hf["model_type"] == "gpt2" and hf["n_layer"] == config["n_layers"] and
           hf["n_inner"] == ff and hf["n_positions"] == config["seq_len"] and
           hf["activation_function"] == "gelu_new" and hf["tie_word_embeddings"] is True and
           abs(hf["layer_norm_epsilon"] - float(config.get("norm_eps", 1e-5))) < 1e-12,
           f"{label}: config.json")
    rng = np.random.RandomState(seed)
    rows = [list(rng.randint(0, config["vocab_size"], 8)) for _ in range(3)]
    loss, _ = engine.engine_grad(binary, ckpt, rows, work)
    ids = torch.tensor(rows)
    mine = gpt2_forward.loss(weights, hf, ids[:, :-1], ids[:, 1:]).item()
    expect(abs(mine - loss) <= 1e-5 * abs(loss),
           f"{label}: GPT-2 forward on the export gives normlab's loss ({mine:.9g} vs {loss:.9g})")


def check_refused(binary, config, needle, seed, work):
    ckpt, out = f"{work}/r{seed}.safetensors", f"{work}/refused{seed}"
    engine.run(binary, "init", *[a for k, v in config.items() for a in (f"--{k}", str(v))],
               "-o", ckpt)
    r = export(binary, ckpt, out)
    lines = r.stderr.strip().splitlines()
    prefix = f"normlab: error: {ckpt}: GPT-2 cannot express "
    expect(r.returncode == 1 and len(lines) == 1 and lines[0].startswith(prefix) and
           needle in lines[0] and not os.path.exists(out),
           f"refused, naming {needle}: {r.stderr.strip()}")


def check_tokenizer(binary, work):
    """A trained run's checkpoint: tokenizer.model is copied byte for byte."""
    engine.train_tiny_run(binary, work, "--n_layers", "2", "--steps", "1")
    ckpt = f"{work}/run/checkpoint.safetensors"
    r = export(binary, ckpt, f"{work}/hf-tok")
    with open(f"{work}/data/tokenizer.model", "rb") as a, open(f"{work}/hf-tok/tokenizer.model",
                                                              "rb") as b:
        same = a.read() == b.read()
    with open(f"{work}/hf-tok/tokenizer_config.json") as f:
        tc = json.load(f)
    with open(f"{work}/hf-tok/config.json") as f:
        hf = json.load(f)
    _, meta = safetensors.read(ckpt)
    expect(r.returncode == 0 and same and tc["add_bos_token"] is False and
           "eos_token_id" in hf and hf["vocab_size"] == 400,
           f"trained checkpoint: tokenizer.model copied byte for byte "
           f"(identity {meta['normlab.tokenizer']}), tokenizer_config.json, eos id")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        for seed, config in enumerate(EXPRESSIBLE, start=1):
            check_expressible(binary, config, seed, work)
        for seed, (config, needle) in enumerate(INEXPRESSIBLE, start=1):
            check_refused(binary, config, needle, seed, work)
        check_tokenizer(binary, work)
    if failures:
        sys.exit(f"{len(failures)} failed")
    print("all passed")


if __name__ == "__main__":
    main()
