#!/usr/bin/env python3
"""Keeps the finished runs of a sweep directory in the repository, small enough to commit.
Usage: keep_run.py SWEEP_DIR DEST_DIR

For every run of SWEEP_DIR with a summary.json that is not `interrupted at step S`, writes
DEST_DIR/<run>/ with
- summary.json and metrics.jsonl as the run wrote them;
- diagnostics.jsonl thinned: every probed step is kept with its per-block statistics, numbers
  rounded to 5 significant digits, and the per-tensor `params` replaced by one entry per block
  (`blocks.N.all`: the norm over the block's tensors of the gradient and of the weight, and the
  block's exact update ratio sqrt(sum_i (r_i w_i)^2) / sqrt(sum_i w_i^2), docs/diagnostics.md), so
  that `normlab report` draws the same per-block heat maps from it;
- cost.json: the CPU model, the threads, and the wall time of the training loop (the sum over the
  logged intervals of tokens / tokens_per_s, so time while the run was stopped does not count).
A run kept before is rewritten only when its summary.json changed."""
import json
import math
import os
import re
import sys


def rounded(x):
    if isinstance(x, float):
        return float(f"{x:.5g}") if math.isfinite(x) else x
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    return x


def per_block(params):
    """One pseudo tensor per block from the per-tensor `params` of a diagnostics record."""
    acc = {}
    for name, p in params.items():
        m = re.match(r"((?:decoder\.)?blocks\.\d+)\.", name)
        if not m:
            continue
        a = acc.setdefault(m.group(1), [0.0, 0.0, 0.0])
        w = p.get("weight_norm", 0.0)
        a[0] += p.get("grad_norm", 0.0) ** 2
        a[1] += w * w
        a[2] += (p.get("update_ratio", 0.0) * w) ** 2
    return {f"{b}.all": {"grad_norm": math.sqrt(g), "weight_norm": math.sqrt(w),
                         "update_ratio": math.sqrt(u / w) if w > 0 else 0.0}
            for b, (g, w, u) in acc.items()}


def thin_diagnostics(src, dst):
    with open(src) as f, open(dst + ".tmp", "w") as out:
        for line in f:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a truncated last line of a killed run
            if "params" in rec:
                rec["params"] = per_block(rec["params"])
            out.write(json.dumps(rounded(rec), separators=(",", ":")) + "\n")
    os.replace(dst + ".tmp", dst)


def cpu_model():
    """The CPU's model name and its widest vector extension (AVX-512 or AVX2)."""
    name, flags = "unknown", []
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                break
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{name} ({isa})"


def loop_seconds(metrics_path, tokens_per_step):
    seconds, last = 0.0, 0
    for line in open(metrics_path):
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "tokens_per_s" in m and m["tokens_per_s"] > 0:
            seconds += (m["step"] - last) * tokens_per_step / m["tokens_per_s"]
            last = m["step"]
    return seconds


def keep(run, dest):
    summary_path = os.path.join(run, "summary.json")
    summary_text = open(summary_path).read()
    summary = json.loads(summary_text)
    if summary["status"].startswith("interrupted"):
        return False
    kept = os.path.join(dest, "summary.json")
    if os.path.exists(kept) and open(kept).read() == summary_text:
        return False
    os.makedirs(dest, exist_ok=True)
    c = summary["config"]
    with open(os.path.join(dest, "metrics.jsonl"), "w") as f:
        f.write(open(os.path.join(run, "metrics.jsonl")).read())
    if os.path.exists(os.path.join(run, "diagnostics.jsonl")):
        thin_diagnostics(os.path.join(run, "diagnostics.jsonl"),
                         os.path.join(dest, "diagnostics.jsonl"))
    tokens_per_step = c["batch_size"] * c["seq_len"] * c["grad_accum"]
    cost = {"cpu": cpu_model(), "threads": c["threads"],
            "wall_s": round(loop_seconds(os.path.join(run, "metrics.jsonl"), tokens_per_step), 1)}
    with open(os.path.join(dest, "cost.json"), "w") as f:
        json.dump(cost, f)
        f.write("\n")
    with open(kept + ".tmp", "w") as f:  # last: a run is kept once its summary is there
        f.write(summary_text)
    os.replace(kept + ".tmp", kept)
    return True


def main():
    sweep_dir, dest_dir = sys.argv[1], sys.argv[2]
    n = 0
    for name in sorted(os.listdir(sweep_dir)):
        run = os.path.join(sweep_dir, name)
        if os.path.isfile(os.path.join(run, "summary.json")):
            n += keep(run, os.path.join(dest_dir, name))
    if n:
        print(f"keep_run: {n} run(s) kept in {dest_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
