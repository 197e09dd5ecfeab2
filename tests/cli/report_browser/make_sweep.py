"""Writes a synthetic sweep of run directories in the documented formats (docs/diagnostics.md):
placements post / pre / peri at depths 2, 4, 8, 16 (12 runs, more than the report's
small-multiples threshold), with long directory names, learning-rate warmup, gradient norms and
per-parameter diagnostics including weight_norm. post at depth 16 diverges.

Usage: python3 make_sweep.py OUT_DIR
"""
import json
import math
import os
import sys

STEPS = 200
PROBE_EVERY = 20
PARAMS = ["attn.qkv.weight", "attn.proj.weight", "mlp.fc1.weight", "mlp.fc2.weight"]


def write_run(root, placement, L):
    name = f"depth-sweep-placement-{placement}-layers-{L:02d}-dt-1-lr-0.001-seed-1"
    d = os.path.join(root, name)
    os.makedirs(d)
    diverged = placement == "post" and L == 16
    last = 140 if diverged else STEPS
    cfg = {"placement": placement, "n_layers": L, "norm": "layernorm", "dt": "1", "lr": 0.001,
           "seed": 1, "d_model": 64, "warmup": 40, "steps": STEPS}
    with open(os.path.join(d, "metrics.jsonl"), "w") as f:
        f.write(json.dumps({"step": 0, "valid_loss": 7.6, "valid_ppl": math.exp(7.6)}) + "\n")
        for s in range(10, last + 1, 10):
            lr = 1e-3 * min(1.0, s / 40) * (min(1.0, math.sqrt(40 / s)))
            loss = 3.0 + 4.6 * math.exp(-s / 50) + 0.01 * L
            gn = 0.8 * math.exp(-s / 80) + 0.2
            if diverged and s > last - 30:
                loss, gn = 8 + (s - last + 30) * 2, gn * 10 ** ((s - last + 30) / 10)
            line = {"step": s, "loss": loss, "lr": lr, "grad_norm": gn, "tokens_per_s": 900}
            if diverged and s == last:
                line.update(loss=None, grad_norm=None)
            f.write(json.dumps(line) + "\n")
            if s % 50 == 0 and not diverged:
                f.write(json.dumps({"step": s, "valid_loss": loss + 0.1}) + "\n")
    with open(os.path.join(d, "diagnostics.jsonl"), "w") as f:
        for s in list(range(0, last, PROBE_EVERY)) + [last]:
            blocks, params = [], {}
            for l in range(1, L + 1):
                g = 0.5 * math.exp(-(L - l) * 0.3) if placement == "post" else 0.3 + 0.01 * l
                rms = 1.0 if placement == "post" else math.sqrt(l)
                blocks.append({"block": l, "input": {"rms": rms, "var": rms * rms},
                               "grad_input": g, "grad_attn_out": g / 3, "grad_mlp_out": g / 2})
                # A spike of the lower blocks' updates shortly before the divergence.
                spike = 30.0 if diverged and s >= last - 40 and l <= 4 else 1.0
                for p in PARAMS:
                    params[f"blocks.{l - 1}.{p}"] = {
                        "grad_norm": 0.05 * g * (1 + s / 100),
                        "weight_norm": 1.0 + 0.001 * s,
                        "update_ratio": 0.0 if s == 0 else 1e-3 * spike * (1 + l / L)}
            params["tok_emb.weight"] = {"grad_norm": 0.1, "weight_norm": 10.0, "update_ratio": 1e-4}
            f.write(json.dumps({"step": s, "blocks": blocks, "params": params}) + "\n")
    summary = {"status": f"diverged at step {last}" if diverged else "ok", "steps": last,
               "final_loss": None if diverged else 3.0 + 4.6 * math.exp(-STEPS / 50) + 0.01 * L,
               "final_valid_loss": None if diverged else 3.1 + 4.6 * math.exp(-STEPS / 50) + 0.01 * L,
               "skipped_steps": 0, "config": cfg}
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f)


def main():
    root = sys.argv[1]
    for placement in ["post", "pre", "peri"]:
        for L in [2, 4, 8, 16]:
            write_run(root, placement, L)


if __name__ == "__main__":
    main()
