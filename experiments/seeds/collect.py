#!/usr/bin/env python3
"""The tables of experiments/seeds/results.md, from the kept runs alone (keep_run.py).
Usage: collect.py RESULTS_DIR > results.md      (also writes RESULTS_DIR/../results.csv)

Reads RESULTS_DIR/<group>/<run>/{summary.json, diagnostics.jsonl, cost.json}. The grid below is
the one experiments/reproduce-seeds.sh runs; a cell without a kept run is `pending`. The
classification rule and the ratio definitions are those of experiments/seeds/README.md."""
import csv
import glob
import json
import math
import os
import sys

DEPTHS = [6, 18]
LRS = [5e-4, 1e-3, 2e-3]
SEEDS = [1, 2]
# Rows in table order: (label, group, placement, dt, rescale_init, scale_embedding, lrs, seeds).
ROWS = [
    ("post", "b2t", "post", "1", False, True, LRS, SEEDS),
    ("pre", "b2t", "pre", "1", False, True, LRS, SEEDS),
    ("b2t", "b2t", "b2t", "1", False, True, LRS, SEEDS),
    ("b2t + rescale_init", "b2t-rescale", "b2t", "1", True, True, LRS, SEEDS),
    ("peri", "b2t", "peri", "1", False, True, LRS, SEEDS),
    ("pre, dt 0.1", "dt0.1", "pre", "0.1", False, True, LRS, SEEDS),
    ("peri, dt 0.1", "dt0.1", "peri", "0.1", False, True, LRS, SEEDS),
    ("post, unscaled emb.", "unscaled", "post", "1", False, False, [1e-3], [1]),
    ("pre, unscaled emb.", "unscaled", "pre", "1", False, False, [1e-3], [1]),
    ("b2t, unscaled emb.", "unscaled", "b2t", "1", False, False, [1e-3], [1]),
    # The 2025-2026 placements (reproduce-seeds.sh, NEW), each preset as it is.
    ("olmo2", "new", "olmo2", "1", False, True, [1e-3], [1]),
    ("siamese", "new", "siamese", "1", False, True, [1e-3], [1]),
    ("ngpt", "new", "ngpt", "1", False, True, [1e-3], [1]),
    ("completep", "new", "completep", "1", False, True, [1e-3], [1]),
    ("subln", "new", "subln", "1", False, True, [1e-3], [1]),
    ("admin", "new", "admin", "1", False, True, [1e-3], [1]),
]
RATIO_LR = 1e-3  # the B2T paper's learning rate: the ratio table's runs


def classify(summary):
    """experiments/seeds/README.md, "How a run is classified"."""
    u = summary.get("unigram_loss")
    v = summary.get("final_valid_loss")
    if summary["status"].startswith("diverged"):
        return "diverged at " + summary["status"].split()[3].rstrip(":")
    if v is None or not math.isfinite(v):
        return "diverged"
    if u is None:
        return "unknown (no unigram_loss)"
    if v > u + 0.5:
        return "diverged"
    return "stalled" if v > u - 0.3 else "trains"


def row_of(group, c):
    for r in ROWS:
        if (r[1], r[2], r[3], r[4], r[5]) == (group, c["placement"], str(c["dt"]),
                                              bool(c["rescale_init"]), bool(c["scale_embedding"])):
            return r[0]
    return None


def ratios(diag_path, depth):
    """{step: {name: value}} at step 0 and at the last probed step (README, "Ratios")."""
    recs = []
    for line in open(diag_path):
        try:
            recs.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    out = {}
    for rec in [r for r in recs if r["step"] == 0][:1] + recs[-1:]:
        b = {x["block"]: x for x in rec["blocks"]}
        if len(b) != depth:
            continue
        top = b[depth]
        out["0" if rec["step"] == 0 else "end"] = {
            "g2/gL": b[2]["grad_input"] / top["grad_input"],
            "g1/gL": b[1]["grad_input"] / top["grad_input"],
            "gF1/gFL": b[1]["grad_mlp_out"] / top["grad_mlp_out"],
            "rL/r2": top["input"]["rms"] / b[2]["input"]["rms"],
            "r1": b[1]["input"]["rms"],
        }
    return out


def load(results):
    runs = []
    for path in sorted(glob.glob(os.path.join(results, "*", "*", "summary.json"))):
        d = os.path.dirname(path)
        group = os.path.basename(os.path.dirname(d))
        s = json.load(open(path))
        c = s["config"]
        label = row_of(group, c)
        if label is None:
            continue
        cost = json.load(open(os.path.join(d, "cost.json")))
        diag = os.path.join(d, "diagnostics.jsonl")
        runs.append({
            "run": f"{group}/{os.path.basename(d)}", "row": label, "L": c["n_layers"],
            "lr": float(c["lr"]), "seed": c["seed"], "status": s["status"], "steps": s["steps"],
            "V": s.get("final_valid_loss"), "U": s.get("unigram_loss"),
            "outcome": classify(s), "cost": cost,
            "precision": s.get("matmul_precision", "fp32"),
            "ratios": ratios(diag, c["n_layers"]) if os.path.exists(diag) else {},
            "steps_planned": c["steps"],
        })
    return runs


def num(x, digits=3):
    return "" if x is None else f"{x:.{digits}f}"


def lr_text(lr):
    m, e = f"{lr:.0e}".split("e")
    return f"{m}e-{int(e[1:])}" if e.startswith("-") else f"{lr:g}"


def sig(x):
    return f"{x:.2g}" if x < 0.01 or x >= 100 else f"{x:.3g}"


def cell_text(runs, seeds):
    if not runs:
        return "pending"
    vs = [r["V"] for r in runs if r["V"] is not None and math.isfinite(r["V"])]
    outcomes = sorted({r["outcome"].split(" at ")[0] for r in runs})
    text = ""
    if vs:
        mean = sum(vs) / len(vs)
        text = f"{mean:.3f}"
        if len(vs) == 2:
            text += f" ± {abs(vs[0] - vs[1]) / 2:.3f}"
    if outcomes == ["trains"]:
        pass
    elif len(outcomes) == 1:
        text += f" **{outcomes[0]}**"
    else:
        text += " **" + " / ".join(f"{r['outcome']} (s{r['seed']})" for r in runs) + "**"
    if len(runs) < len(seeds):
        text += f" ({len(runs)} of {len(seeds)} seeds)"
    return text.strip()


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def main():
    results = sys.argv[1]
    runs = load(results)
    by_cell = {}
    for r in runs:
        by_cell.setdefault((r["row"], r["L"], r["lr"]), []).append(r)
    planned = sum(len(row[6]) * len(row[7]) * len(DEPTHS) for row in ROWS)
    U = next((r["U"] for r in runs if r["U"] is not None), None)
    cpus = sorted({r["cost"]["cpu"] for r in runs})
    threads = sorted({r["cost"]["threads"] for r in runs})
    wall = sum(r["cost"]["wall_s"] for r in runs)
    precisions = {}
    for r in runs:
        precisions.setdefault(r["precision"], []).append(r["run"])

    p = print
    p("# Results: placement x depth x learning rate (experiments/seeds/README.md)")
    p()
    p("Generated by `python3 experiments/seeds/collect.py experiments/seeds/results` from the kept "
      "runs alone; do not edit by hand.")
    p()
    p(f"**{len(runs)} of {planned} runs finished**"
      + (f"; unigram loss of the training tokens U = {U:.3f}, so a run stalls above "
         f"{U - 0.3:.3f} and diverges above {U + 0.5:.3f} (README's rule)." if U else "."))
    p(f"Compute: {wall / 3600:.2f} h of training-loop wall time on {', '.join(cpus) or '-'}, "
      f"{', '.join(str(t) for t in threads) or '-'} thread(s) per run, one or two runs at a time, "
      "the machine shared with other jobs.")
    # precision auto trains in bf16 on a CPU with bf16 matmuls: a grid continued on such a CPU
    # mixes the two, which must be said next to the numbers.
    if len(precisions) == 1:
        p(f"Matmul precision: {next(iter(precisions))} in every run.")
    else:
        p("Matmul precision **differs between runs** (precision auto on different CPUs): "
          + "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(precisions.items())) + ".")
    p()
    p("## Final validation loss (nats/token), mean ± half the seed difference")
    p()
    p("Each cell: the mean of the seeds' final validation loss after 800 steps; the outcome is "
      "written when it is not `trains` (per seed when the seeds disagree); `pending`: not run yet.")
    for L in DEPTHS:
        p()
        p(f"### {L} blocks")
        p()
        p("| row | " + " | ".join(f"lr {lr_text(lr)}" for lr in LRS) + " |")
        p("|---|" + "---:|" * len(LRS))
        for row in ROWS:
            cells = [cell_text(by_cell.get((row[0], L, lr), []), row[7]) if lr in row[6] else "—"
                     for lr in LRS]
            p(f"| {row[0]} | " + " | ".join(cells) + " |")

    p()
    p(f"## Gradient and hidden-state ratios at lr {lr_text(RATIO_LR)}")
    p()
    p("Which blocks and which point of the block each ratio compares (README, \"Ratios a reader "
      "can interpret\"): `g2/gL` the gradient at the input of block 2 over that at the input of "
      "the top block L; `g1/gL` the same from block 1 (includes the first norm's rescaling of the "
      "embedding); `gF1/gFL` the gradient at the MLP sublayer's output F(u), block 1 over block L; "
      "`rL/r2` the input RMS of block L over that of block 2; `r1` the input RMS of block 1. "
      "Geometric mean over the cell's finished seeds; `0` is step 0, `end` the last step.")
    p()
    names = ["g2/gL", "g1/gL", "gF1/gFL", "rL/r2", "r1"]
    p("| row | L | seeds | " + " | ".join(f"{n} 0 | {n} end" for n in names) + " |")
    p("|---|---:|---:|" + "---:|" * (2 * len(names)))
    for row in ROWS:
        for L in DEPTHS:
            rs = [r for r in by_cell.get((row[0], L, RATIO_LR), []) if r["ratios"]]
            if not rs:
                continue
            vals = []
            for n in names:
                for when in ["0", "end"]:
                    g = geomean([r["ratios"][when][n] for r in rs if when in r["ratios"]])
                    vals.append(sig(g) if g is not None else "")
            p(f"| {row[0]} | {L} | {len(rs)} | " + " | ".join(vals) + " |")

    p()
    p("## Cost")
    p()
    p("| depth | runs finished | mean wall per run (min) | mean s per step (with validation and diagnostics) |")
    p("|---:|---:|---:|---:|")
    for L in DEPTHS:
        rs = [r for r in runs if r["L"] == L]
        if rs:
            w = sum(r["cost"]["wall_s"] for r in rs) / len(rs)
            st = sum(r["cost"]["wall_s"] / max(r["steps"], 1) for r in rs) / len(rs)
            p(f"| {L} | {len(rs)} | {w / 60:.1f} | {st:.2f} |")
    p()
    p("Every finished run, with its status and outcome: `results.csv`.")

    with open(os.path.join(os.path.dirname(os.path.abspath(results)), "results.csv"), "w",
              newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "row", "n_layers", "lr", "seed", "status", "steps", "final_valid_loss",
                    "outcome", "wall_s", "threads", "cpu"]
                   + [f"{n} {when}" for n in names for when in ["0", "end"]])
        for r in sorted(runs, key=lambda r: ([x[0] for x in ROWS].index(r["row"]), r["L"],
                                             r["lr"], r["seed"])):
            w.writerow([r["run"], r["row"], r["L"], r["lr"], r["seed"], r["status"], r["steps"],
                        num(r["V"], 4), r["outcome"], r["cost"]["wall_s"], r["cost"]["threads"],
                        r["cost"]["cpu"]]
                       + [sig(r["ratios"][when][n]) if when in r["ratios"] else ""
                          for n in names for when in ["0", "end"]])


if __name__ == "__main__":
    main()
