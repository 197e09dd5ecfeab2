"""A run's diagnostics.jsonl (docs/diagnostics.md) as numpy arrays over the probed steps."""
import json
import os

import numpy as np


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = float(value)


def diagnostics(run_dir):
    """{"step": array of probed steps,
        "blocks": {block (1-based, as in the file): {"input.rms": array, "grad_input": array, ...}},
        "encoder_blocks": {...} (encoder-decoder runs), "output": {"rms": array, ...},
        "params": {name: {"grad_norm": array, "update_ratio": array}}}.
    Every array has one entry per probed step, NaN where that step lacks the value."""
    path = run_dir if run_dir.endswith(".jsonl") else os.path.join(run_dir, "diagnostics.jsonl")
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    n = len(lines)
    result = {"step": np.array([line["step"] for line in lines], dtype=np.int64)}

    def column(table, key, i, value):
        table.setdefault(key, np.full(n, np.nan))[i] = value

    def blocks_of(entries, i, into):
        for b in entries or []:
            flat = {}
            _flatten("", {k: v for k, v in b.items() if k != "block"}, flat)
            for key, value in flat.items():
                column(into.setdefault(b["block"], {}), key, i, value)

    result["blocks"], result["encoder_blocks"], result["output"], result["params"] = {}, {}, {}, {}
    for i, line in enumerate(lines):
        blocks_of(line.get("blocks"), i, result["blocks"])
        blocks_of(line.get("encoder", {}).get("blocks"), i, result["encoder_blocks"])
        flat = {}
        _flatten("", line.get("output", {}), flat)
        for key, value in flat.items():
            column(result["output"], key, i, value)
        for name, stats in line.get("params", {}).items():
            for key, value in stats.items():
                if isinstance(value, (int, float)):
                    column(result["params"].setdefault(name, {}), key, i, float(value))
    return result
