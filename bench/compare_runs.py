#!/usr/bin/python3
"""Compares two run directories (bench/precision_check.sh): fp32 against bf16.

Prints the validation loss of both at every evaluation and their relative difference (the target:
below 1 % after the last step), and, at the last probed step of diagnostics.jsonl, the per-block
profiles that the stability instruments report (hidden-state RMS at each block's input, the
sublayer outputs' RMS, the gradient norm at each block input, attention entropy) side by side with
the largest per-block ratio bf16 / fp32 and the correlation of the log-profiles over blocks.
Exit status 1 if the final validation losses differ by 1 % or more.
"""
import json
import math
import sys


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def series(blocks, key):
    out = []
    for b in blocks:
        v = b
        for k in key.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        out.append(v)
    return out


def corr(a, b):
    la, lb = [math.log(x) for x in a], [math.log(x) for x in b]
    ma, mb = sum(la) / len(la), sum(lb) / len(lb)
    sa = math.sqrt(sum((x - ma) ** 2 for x in la))
    sb = math.sqrt(sum((x - mb) ** 2 for x in lb))
    if sa == 0 or sb == 0:
        return float("nan")
    return sum((x - ma) * (y - mb) for x, y in zip(la, lb)) / (sa * sb)


def main():
    a_dir, b_dir = sys.argv[1], sys.argv[2]
    ev = {}
    for name, d in (("fp32", a_dir), ("bf16", b_dir)):
        for r in jsonl(f"{d}/metrics.jsonl"):
            if "valid_loss" in r:
                ev.setdefault(r["step"], {})[name] = r["valid_loss"]
    print("| step | valid loss fp32 | valid loss bf16 | difference |")
    print("|---:|---:|---:|---:|")
    final = None
    for step in sorted(ev):
        v = ev[step]
        if "fp32" in v and "bf16" in v:
            rel = (v["bf16"] - v["fp32"]) / v["fp32"]
            final = (step, rel)
            print(f"| {step} | {v['fp32']:.4f} | {v['bf16']:.4f} | {100 * rel:+.2f}% |")
    summaries = [json.load(open(f"{d}/summary.json")) for d in (a_dir, b_dir)]
    print("matmul precision: " + " / ".join(s.get("matmul_precision", "?") for s in summaries))

    da, db = jsonl(f"{a_dir}/diagnostics.jsonl"), jsonl(f"{b_dir}/diagnostics.jsonl")
    last = max(set(r["step"] for r in da) & set(r["step"] for r in db))
    ba = next(r for r in da if r["step"] == last)["blocks"]
    bb = next(r for r in db if r["step"] == last)["blocks"]
    print(f"\nper-block diagnostics at step {last} (fp32 / bf16):")
    keys = ["input.rms", "attn_out.rms", "mlp_out.rms", "grad_input", "attn_entropy"]
    print("| block | " + " | ".join(keys) + " |")
    print("|---:|" + "---:|" * len(keys))
    cols = {k: (series(ba, k), series(bb, k)) for k in keys}
    for i in range(len(ba)):
        cells = []
        for k in keys:
            x, y = cols[k][0][i], cols[k][1][i]
            cells.append("—" if x is None or y is None else f"{x:.4g} / {y:.4g}")
        print(f"| {i + 1} | " + " | ".join(cells) + " |")
    print("\n| profile | max over blocks of abs(bf16/fp32 - 1) | correlation of log-profiles |")
    print("|---|---:|---:|")
    for k in keys:
        x, y = cols[k]
        pairs = [(p, q) for p, q in zip(x, y) if p is not None and q is not None and p > 0 and q > 0]
        if not pairs:
            continue
        dev = max(abs(q / p - 1) for p, q in pairs)
        c = corr([p for p, _ in pairs], [q for _, q in pairs])
        print(f"| {k} | {100 * dev:.2f}% | {c:.4f} |")
    if final is None:
        print("no common evaluation step")
        return 1
    ok = abs(final[1]) < 0.01
    print(f"\nfinal validation loss (step {final[0]}) differs by {100 * final[1]:+.3f}%: "
          f"{'within' if ok else 'NOT within'} 1%")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
