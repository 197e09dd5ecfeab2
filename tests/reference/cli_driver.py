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
