"""Running the normlab binary from the Python tests: init a model, perturb it, ask for its loss
and gradients with `normlab grad` (docs/model.md, "normlab grad token file")."""
import json
import os
import re
import subprocess
import sys

import numpy as np

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The source tree's package when the built one (PYTHONPATH=BUILD/python, as ctest sets it) is not
# on the path.
sys.path.append(os.path.join(SOURCE_DIR, "python"))
from normlab import safetensors  # noqa: E402


def run(binary, *args):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    r = subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"normlab {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def option_choices(binary, key):
    """The choices of an option as `normlab options` lists them."""
    text = run(binary, "options")
    # "--key  type [default]  allowed: a, b, c" on the option's own line
    m = re.search(r"^\s*--" + key + r"\s.*allowed: ([^\n]*)$", text, re.M)
    if not m:
        raise RuntimeError(f"`normlab options` lists no choices for {key}")
    return [c.strip() for c in m.group(1).split(",")]


def init_perturbed(binary, path, options, seed):
    """`normlab init` with the given options, then every parameter moved by noise so that gains,
    biases and DyT's alpha are not at their initial values (a test of norms with g = 1, b = 0
    would miss a swapped or ignored parameter)."""
    flags = [a for k, v in options.items() for a in (f"--{k}", str(v))]
    run(binary, "init", *flags, "--seed", str(seed), "-o", path)
    tensors, metadata = safetensors.read(path)
    rng = np.random.RandomState(seed)
    for name, value in tensors.items():
        scale = 0.3 if value.ndim == 1 else 0.5 * max(float(np.abs(value).std()), 0.05)
        tensors[name] = value + scale * rng.standard_normal(value.shape).astype(np.float32)
    if any(name.endswith(".omega") for name in tensors):  # Admin: the perturbed omega stand
        metadata["normlab.shortcut_profile"] = "test: perturbed"  # for a profile, kept as is
    safetensors.write(path, tensors, metadata)
    return json.loads(metadata["normlab.config"])


def engine_grad(binary, model_path, rows, workdir):
    """Loss and gradients (dict name -> array) of the engine on text rows (lists of ids, or
    (src, tgt) pairs for an encoder-decoder)."""
    tokens = os.path.join(workdir, "tokens.txt")
    with open(tokens, "w") as f:
        for row in rows:
            if isinstance(row, tuple):
                f.write(" ".join(map(str, row[0])) + " | " + " ".join(map(str, row[1])) + "\n")
            else:
                f.write(" ".join(map(str, row)) + "\n")
    out = os.path.join(workdir, "grad.safetensors")
    run(binary, "grad", "-m", model_path, "--tokens", tokens, "-o", out)
    grads, metadata = safetensors.read(out)
    return float(metadata["loss"]), grads


FORTUNES = "/usr/share/games/fortunes"


# The options of the tiny run (besides data and out_dir), as a dict and as flags.
TINY_RUN = {"d_model": 16, "n_heads": 2, "d_ff": 32, "seq_len": 16, "batch_size": 2, "warmup": 1,
            "eval_batches": 1, "progress": "false", "threads": 2}


def prepare_corpus(binary, out_dir):
    """`normlab prepare` on three fortune files (400 pieces) into OUT_DIR."""
    files = ",".join(f"{FORTUNES}/{n}.u8" for n in ("pets", "goedel", "magic"))
    run(binary, "prepare", "--input", files, "--vocab_size", "400", "--out_dir", out_dir)


def train_tiny_run(binary, work, *extra):
    """`normlab prepare` on three fortune files into WORK/data, then a tiny `normlab train` into
    WORK/run (extra: more flags, e.g. "--steps", "6"). Returns the run directory."""
    prepare_corpus(binary, f"{work}/data")
    run(binary, "train", "--data", f"{work}/data", "--out_dir", f"{work}/run",
        *[a for k, v in TINY_RUN.items() for a in (f"--{k}", str(v))], *extra)
    return f"{work}/run"


class Expectations:
    """`expect(ok, what)` prints one line per check; `finish()` exits non-zero if any failed."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)

    def raises(self, error, call, want, what):
        """`call()` must raise `error` whose message contains `want`."""
        try:
            call()
        except error as e:
            self(want in str(e), f"{what}: {type(e).__name__}: {e}")
            return
        except Exception as e:  # noqa: BLE001 (the wrong exception is a failure, not a crash)
            self(False, f"{what}: raised {type(e).__name__}: {e}, not {error.__name__}")
            return
        self(False, f"{what}: raised nothing")

    def finish(self):
        if self.failures:
            sys.exit(f"{len(self.failures)} failed:\n" + "\n".join(self.failures))
        print("all passed")
