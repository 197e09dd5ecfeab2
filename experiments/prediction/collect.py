#!/usr/bin/env python3
"""Confusion tables of the sanity-check's predictions against the real runs (docs/sanity-check.md,
"Validation"). Usage: collect.py TRAIN_BIN RESULTS_DIR > results.md

Real outcome: the rule of docs/sanity-check.md, applied to each run's summary.json
(RESULTS_DIR/<width>/<run>.json), with the unigram loss computed here from TRAIN_BIN (independently
of normlab's own code). Prediction: the per-depth outcome of RESULTS_DIR/<width>/checks/*.json."""
import array
import collections
import glob
import json
import math
import os
import struct
import sys

OUTCOMES = ["trains", "stalls", "diverges"]
# The sets (docs/sanity-check.md, "Validation: results", says when each was first looked at):
# the tuning sets (seed 1), the held-out sets read before the predictor's last change (seed 2),
# and the fresh held-out sets, checked and read only after it was fixed (seed 2; width 48
# never used for tuning).
SETS = [("d32", 1, "tuning: width 32, seed 1"),
        ("d16", 1, "tuning: width 16, seed 1"),
        ("d64", 1, "tuning: width 64, seed 1"),
        ("d32", 2, "held out: width 32, seed 2"),
        ("d64", 2, "held out: width 64, seed 2"),
        ("d16", 2, "fresh held out: width 16, seed 2"),
        ("d48", 2, "fresh held out: width 48, seed 2")]
TUNING = {0, 1, 2}
FRESH = {5, 6}
# The target: at least this share of the held-out cells agree.
TARGET = 0.90


def agreement(agree, n):
    """`agree/n agree (x.y%)`, truncated (not rounded) to one decimal, so that a rate below the
    target never prints as reaching it (86/96 = 89.58% is 89.5%, not 90%)."""
    return f"{agree}/{n} agree ({math.floor(1000 * agree / n) / 10:.1f}%)"


def unigram_loss(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[16:24])[0]
    ids = array.array("i")
    ids.frombytes(data[64:64 + 4 * n])
    counts = collections.Counter(ids)
    return -sum(c / n * math.log(c / n) for c in counts.values())


def context_gain(e):
    """The unigram model's loss on the trial's last batches minus the trial's loss there."""
    u, l = e.get("end_unigram_loss"), e.get("end_loss")
    return None if u is None or l is None else u - l


def update_ratio(e):
    return e["update_bottom"] / e["update_top"] if e.get("update_top") else 0.0


def real_outcome(summary, U):
    """docs/sanity-check.md, "Validation: how a real run's outcome is classified"."""
    v = summary.get("final_valid_loss")
    if summary["status"].startswith("diverged") or v is None or not math.isfinite(v) or v > U + 0.5:
        return "diverges"
    return "stalls" if v > U - 0.3 else "trains"


def main():
    U = unigram_loss(sys.argv[1])
    root = sys.argv[2]
    cells = []  # (set index, placement, depth, lr, seed, real, predicted, confidence, spiky real, spiky pred, V)
    for si, (width, seed, _) in enumerate(SETS):
        checks = {}
        for path in glob.glob(os.path.join(root, width, "checks", "*.json")):
            j = json.load(open(path))
            c = j["config"]
            if c["seed"] != seed:
                continue
            for d in j["depths"]:
                checks[(c["placement"], d["depth"], float(c["lr"]))] = d
        for path in sorted(glob.glob(os.path.join(root, width, "*.json"))):
            s = json.load(open(path))
            c = s["config"]
            if c["seed"] != seed:
                continue
            key = (c["placement"], c["n_layers"], float(c["lr"]))
            d = checks.get(key)
            pred = d["prediction"]["outcome"] if d else None
            cells.append(dict(set=si, placement=key[0], depth=key[1], lr=key[2], seed=seed,
                              real=real_outcome(s, U), pred=pred,
                              conf=d["prediction"]["confidence"] if d else None,
                              spiky=s.get("spikes", 0) > 0,
                              pred_spiky=d["prediction"]["spiky"] if d else None,
                              valid=s.get("final_valid_loss"),
                              trial=d["evidence"]["end_loss"] if d else None,
                              context=context_gain(d["evidence"]) if d else None,
                              ratio=update_ratio(d["evidence"]) if d else None))
    print("# sanity-check against real runs\n")
    print(f"Unigram loss of the training tokens: U = {U:.4f} nats (computed by collect.py).\n")
    print("Written by `bash experiments/prediction/run.sh` (stage `tables`: "
          "`python3 experiments/prediction/collect.py runs/prediction/data/train.bin "
          "experiments/prediction/results`).\n")
    # Each set, then the three groups together.
    groups = [(title, {si}) for si, (_, _, title) in enumerate(SETS)]
    groups += [("tuning, all sets", TUNING),
               ("held out, all sets", set(range(len(SETS))) - TUNING),
               ("fresh held out, all sets", FRESH)]
    print("| set | cells with a check | agree | target 90% |")
    print("|---|---:|---:|---|")
    table = []
    for title, members in groups:
        sel = [c for c in cells if c["set"] in members and c["pred"]]
        table.append((title, members, sel))
        if not sel:
            print(f"| {title} | 0 | - | - |")
            continue
        agree = sum(c["real"] == c["pred"] for c in sel)
        reached = ("-" if members <= TUNING else
                   "reached" if agree >= TARGET * len(sel) else "**not reached**")
        print(f"| {title} | {len(sel)} | {agreement(agree, len(sel)).replace(' agree', '')} | "
              f"{reached} |")
    print()
    for title, members, sel in table:
        if not sel:
            continue
        agree = sum(c["real"] == c["pred"] for c in sel)
        verdict = ""
        if not members <= TUNING:
            reached = agree >= TARGET * len(sel)
            verdict = (f"; target {100 * TARGET:.0f}%: " +
                       ("reached" if reached else "**not reached**"))
        print(f"## {title}: {agreement(agree, len(sel))}{verdict}\n")
        print("| real \\ predicted | " + " | ".join(OUTCOMES) + " |")
        print("|---|" + "---:|" * len(OUTCOMES))
        for r in OUTCOMES:
            row = [sum(1 for c in sel if c["real"] == r and c["pred"] == p) for p in OUTCOMES]
            print(f"| {r} | " + " | ".join(str(x) for x in row) + " |")
        spiky = [c for c in sel if c["spiky"]]
        both = sum(1 for c in spiky if c["pred_spiky"])
        print(f"\nSpiky real runs: {len(spiky)}, of which the check saw spikes in {both}; "
              f"the check saw spikes in {sum(1 for c in sel if c['pred_spiky'])} cells.\n")
    missing = [c for c in cells if not c["pred"]]
    if missing:
        print(f"{len(missing)} real runs have no check yet.\n")
    print("## Disagreements\n")
    print("Trial: its loss over the last tenth, the context gain c (the unigram model's loss on the "
          "same batches minus it; trains above -0.03) and the bottom/top update ratio.\n")
    print("| set | placement | L | lr | real (valid loss) | predicted (confidence) | trial loss, c, "
          "bottom/top |")
    print("|---|---|---:|---:|---|---|---|")
    for c in cells:
        if c["pred"] and c["pred"] != c["real"]:
            v = "none" if c["valid"] is None else f"{c['valid']:.3f}"
            t = ("none" if c["trial"] is None or c["context"] is None else
                 f"{c['trial']:.3f}, {c['context']:+.3f}, {c['ratio']:.2f}")
            print(f"| {SETS[c['set']][2].split(':')[1].strip()} | {c['placement']} | {c['depth']} | "
                  f"{c['lr']:g} | {c['real']} ({v}) | {c['pred']} ({c['conf']:.2f}) | {t} |")
    print("\n## Every cell\n")
    print("| set | placement | L | lr | valid loss | real | predicted |")
    print("|---|---|---:|---:|---:|---|---|")
    for c in cells:
        v = "none" if c["valid"] is None else f"{c['valid']:.3f}"
        print(f"| {SETS[c['set']][0]} s{c['seed']} | {c['placement']} | {c['depth']} | {c['lr']:g} | "
              f"{v} | {c['real']}{' spiky' if c['spiky'] else ''} | {c['pred'] or '-'} |")


if __name__ == "__main__":
    main()
