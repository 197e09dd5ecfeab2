"""Running the normlab binary from the reference tests: one subprocess helper, token rows, the
placements normlab offers, and the config the reference is built from."""
import json
import os
import subprocess

import numpy as np

import model as ref

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


def product_placements(exe):
    """The placements normlab offers: the `placement` option's choices (`normlab options --json`)
    but `custom`. The parity tests run every one, so a preset without equations in model.py fails
    (ref.Model raises ValueError for a placement it does not know)."""
    r = run([exe, "options", "--json"])
    choices = {o["key"]: o["choices"] for o in json.loads(r.stdout)}.get("placement", [])
    names = [c for c in choices if c != "custom"]
    if not names:
        raise CaseError("`normlab options --json` lists no placement choices")
    return names


# Options a placement preset stands for; normlab writes them out in its effective config
# (docs/placements.md). The reference resolves them itself from the test's own config, so that a
# wrong preset in normlab is a parity failure instead of being copied into the oracle.
PRESET_OPTIONS = ("placement", "block", "lower_block", "lower_fraction", "final_norm",
                  "residual_alpha", "completep_alpha")


def expected_expansion(key, cfg):
    """What normlab must write for a preset option the test left at `auto`, by the reference's
    own reading of the placement (model.py)."""
    full = ref.full_config(cfg)
    if key == "final_norm":
        return "true" if ref.has_final_norm(full) else "false"
    if key == "residual_alpha":
        return "deepnorm" if full["placement"] == "deepnorm" else "1"
    return "auto"


def reference_config(cfg, model_cfg, override=None):
    """The reference model's config: normlab's echo (model_cfg) for the shape and everything
    else, the test's own values or the reference's defaults for PRESET_OPTIONS, then `override`."""
    full = ref.full_config(cfg)
    out = dict(model_cfg)
    out.update({k: full[k] for k in PRESET_OPTIONS})
    out.update(override or {})
    return out


def check_effective_config(cfg, model_cfg):
    """The checkpoint's normlab.config must echo every option the test set (floats and `block`
    may come back re-spelled, `sandwich` may be resolved to `peri`); an `auto` the placement
    resolves must come back as the reference's own resolution (expected_expansion)."""
    for k, v in cfg.items():
        if k == "block" or isinstance(v, float):
            continue
        if k == "placement" and v == "sandwich" and model_cfg.get(k) == "peri":
            continue
        if k not in model_cfg:
            raise CaseError(f"normlab.config has no {k} (the config said {v!r})")
        want = expected_expansion(k, cfg) if v == "auto" else v
        if str(model_cfg[k]) != str(want):
            raise CaseError(f"normlab.config has {k}={model_cfg[k]!r}, the config said {v!r}"
                            + (f" (the reference resolves it to {want!r})" if want != v else ""))
