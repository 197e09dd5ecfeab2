"""normlab.diagnostics(run_dir): a run's diagnostics.jsonl (written by `normlab train`) as numpy
arrays over the probed steps, keyed by block, equal entry for entry to the file.

usage: test_diagnostics_arrays.py NORMLAB_BINARY"""
import json
import sys
import tempfile

import numpy as np

import engine  # noqa: F401  (puts python/ on the path)
import normlab


def main():
    binary = sys.argv[1]
    failures = []

    def expect(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as work:
        engine.train_tiny_run(binary, work, "--n_layers", "3", "--steps", "6", "--diag_every", "2")
        d = normlab.diagnostics(f"{work}/run")
        with open(f"{work}/run/diagnostics.jsonl") as f:
            lines = [json.loads(line) for line in f]
        expect(d["step"].tolist() == [line["step"] for line in lines] == [0, 2, 4, 6],
               f"one entry per probed step: {d['step'].tolist()}")
        expect(sorted(d["blocks"]) == [1, 2, 3], "keyed by block (1-based, as the file)")
        b2 = d["blocks"][2]
        expect(all(isinstance(v, np.ndarray) and v.shape == (4,) for v in b2.values()),
               "every value is a numpy array over the steps")
        want = [line["blocks"][1]["input"]["rms"] for line in lines]
        expect(np.array_equal(b2["input.rms"], np.array(want)), "input.rms equals the file's")
        want = [line["blocks"][2]["grad_input"] for line in lines]
        expect(np.array_equal(d["blocks"][3]["grad_input"], np.array(want)),
               "grad_input equals the file's")
        expect(np.array_equal(d["output"]["rms"], np.array([line["output"]["rms"] for line in lines])),
               "the stack output's statistics")
        name = "blocks.0.attn.qkv.weight"
        want = [line["params"][name]["grad_norm"] for line in lines]
        expect(np.array_equal(d["params"][name]["grad_norm"], np.array(want, dtype=float)),
               "per-parameter gradient norms by name")
    if failures:
        sys.exit(f"{len(failures)} failed")
    print("all passed")


if __name__ == "__main__":
    main()
