"""Running the normlab binary from the reference tests: one subprocess helper, token rows."""
import os
import subprocess

import numpy as np

# The tiny model every reference test uses.
TINY = {"vocab_size": 50, "d_model": 16, "n_heads": 2, "n_layers": 4, "d_ff": 24, "seq_len": 8,
        "residual_alpha": "auto"}
BATCH = 3


class CaseError(Exception):
    pass


def run(cmd, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0:
        msg = (r.stderr.strip() or r.stdout.strip()).splitlines()
        raise CaseError(f"`{' '.join(os.path.basename(c) for c in cmd[:2])}` exited "
                        f"{r.returncode}: {msg[-1] if msg else ''}")
    return r


def write_tokens(path, vocab, B, T, seed):
    """docs/model.md's text form: one row of T + 1 ids per line."""
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, vocab, size=(B, T + 1))
    with open(path, "w") as f:
        for row in ids:
            f.write(" ".join(str(int(t)) for t in row) + "\n")


def write_pair_tokens(path, vocab, lengths, seed):
    """The encoder-decoder text form: one `SRC_IDS | TGT_IDS` line per row, lengths[b] = (S_b,
    T_b) giving S_b source ids and T_b + 1 target ids. Returns the rows as (src, tgt) lists."""
    rng = np.random.RandomState(seed)
    rows = []
    with open(path, "w") as f:
        for S, T in lengths:
            src = [int(t) for t in rng.randint(0, vocab, size=S)]
            tgt = [int(t) for t in rng.randint(0, vocab, size=T + 1)]
            rows.append((src, tgt))
            f.write(" ".join(map(str, src)) + " | " + " ".join(map(str, tgt)) + "\n")
    return rows


def check_effective_config(cfg, model_cfg):
    """The checkpoint's normlab.config must echo every option the test set (floats and `block`
    may come back re-spelled, `sandwich` may be resolved to `peri`)."""
    for k, v in cfg.items():
        if k == "block" or isinstance(v, float):
            continue
        if k == "placement" and v == "sandwich" and model_cfg.get(k) == "peri":
            continue
        if k not in model_cfg:
            raise CaseError(f"normlab.config has no {k} (the config set {v!r})")
        if str(model_cfg[k]) != str(v):
            raise CaseError(f"normlab.config has {k}={model_cfg[k]!r}, the config said {v!r}")
