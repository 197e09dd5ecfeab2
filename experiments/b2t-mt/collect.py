#!/usr/bin/env python3
"""Builds experiments/b2t-mt/results.{md,csv,json} from the archived runs in results/NAME/ alone
(run.sh copies each finished run there), so the tables can be rebuilt without rerunning anything:

    python3 experiments/b2t-mt/collect.py experiments/b2t-mt/results experiments/b2t-mt

Per run (NAME = PLACEMENT-ENC-DEC-sSEED): status and validation losses (metrics.jsonl: token-
weighted cross-entropy without label smoothing, every 250 steps), test BLEU and chrF (bleu.json,
chrf.json from `normlab eval`), compute (compute.json: wall and CPU seconds of the timed train and
translate calls, CPU model, threads; summary.json: matmul precision), and the gradient-norm profile
of the first and last diagnostics lines: grad_input is |dLoss/d(block input)|, and the ratio
block 1 / top block is the B2T paper's vanishing-gradient measure (near 1: flat; << 1: vanishing
towards the lower blocks).

Ranking stability: for each depth and seed whose placements have all finished, the placements are
ranked by validation loss at the last evaluation and at the one before; the ranking is stable when
both orders are the same. And per depth, once every placement has finished with at least two
seeds, the same over the seed means, where two placements next to each other in the order are
tied when their intervals mean +- half the seed range overlap: a difference the seeds do not
reproduce is not a ranking (the rule of the seeds grid, experiments/README.md; fixed before the
second seed's MT runs had trained).
"""
import argparse
import csv
import datetime
import json
import math
import os
import re
import statistics

PLACEMENTS = ["post", "pre", "b2t"]
NAME = re.compile(r"(?P<placement>[a-z0-9_]+)-(?P<enc>\d+)-(?P<dec>\d+)-s(?P<seed>\d+)")


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def grad_profile(blocks):
    return [b["grad_input"] for b in sorted(blocks, key=lambda b: b["block"])]


def ratio(profile):
    if not profile or not profile[-1] or not all(math.isfinite(g) for g in profile):
        return None
    return profile[0] / profile[-1]


def collect_run(path, name):
    m = NAME.fullmatch(name)
    summary = read_json(os.path.join(path, "summary.json"))
    row = {"name": name, "placement": m["placement"], "depth": f"{m['enc']}-{m['dec']}",
           "seed": int(m["seed"]), "status": summary["status"], "steps": summary["steps"],
           "precision": summary.get("matmul_precision")}
    evals = [(r["step"], r["valid_loss"]) for r in read_jsonl(os.path.join(path, "metrics.jsonl"))
             if "valid_loss" in r]
    evals = sorted(dict(evals).items())  # one value per step
    row["valid_curve"] = evals
    vl = summary.get("final_valid_loss")
    row["valid_loss"] = vl
    row["valid_ppl"] = math.exp(vl) if vl is not None and math.isfinite(vl) and vl < 50 else None
    bleu = read_json(os.path.join(path, "bleu.json"))
    chrf = read_json(os.path.join(path, "chrf.json"))
    row["bleu"] = bleu["score"] if bleu else None
    row["chrf"] = chrf["score"] if chrf else None
    row["test_segments"] = bleu["segments"] if bleu else None
    compute = read_json(os.path.join(path, "compute.json")) or {}
    train = compute.get("train") or {}
    translate = compute.get("translate") or {}
    row["cpu"] = compute.get("cpu")
    row["threads"] = compute.get("threads")
    row["train_wall_s"] = train.get("wall_s")
    row["train_cpu_s"] = train.get("cpu_s")
    row["train_invocations"] = train.get("invocations")
    row["translate_wall_s"] = translate.get("wall_s")
    # Per step over the steps the timed calls covered (calls killed at a session's end are not
    # timed, so the sums above cover part of the run); the whole run's cost is estimated from it.
    timed = train.get("timed_steps")
    row["timed_steps"] = timed
    row["s_per_step"] = row["train_wall_s"] / timed if timed and row["train_wall_s"] else None
    row["cpu_s_per_step"] = row["train_cpu_s"] / timed if timed and row["train_cpu_s"] else None
    row["train_cpu_est_s"] = (row["cpu_s_per_step"] * row["steps"]
                              if row["cpu_s_per_step"] and row["steps"] else None)
    diags = read_jsonl(os.path.join(path, "diagnostics.jsonl"))
    if diags:
        for label, diag in (("init", diags[0]), ("last", diags[-1])):
            row[f"dec_grad_{label}"] = grad_profile(diag["blocks"])
            row[f"enc_grad_{label}"] = grad_profile(diag["encoder"]["blocks"])
            row[f"dec_ratio_{label}"] = ratio(row[f"dec_grad_{label}"])
            row[f"enc_ratio_{label}"] = ratio(row[f"enc_grad_{label}"])
        row["diag_step"] = diags[-1]["step"]
    return row


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def mean_spread(values):
    """Mean and half the range (the spread of 2 seeds is exactly +- half their difference)."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (max(values) - min(values)) / 2


def ranking(rows, step_index):
    """Placements ordered by validation loss at the step_index-th evaluation (from the end)."""
    losses = {}
    for r in rows:
        if len(r["valid_curve"]) < -step_index:
            return None
        losses[r["placement"]] = r["valid_curve"][step_index]
    return sorted(losses, key=lambda p: losses[p][1]), {p: v for p, v in losses.items()}


def stability(rows):
    """Per (depth, seed) with every placement finished: rankings at the last two evaluations."""
    out = []
    groups = {}
    for r in rows:
        groups.setdefault((r["depth"], r["seed"]), []).append(r)
    for (depth, seed), group in sorted(groups.items()):
        if sorted(r["placement"] for r in group) != sorted(PLACEMENTS):
            continue
        last, before = ranking(group, -1), ranking(group, -2)
        if not last or not before:
            continue
        out.append({"depth": depth, "seed": seed, "last_step": last[1][last[0][0]][0],
                    "before_step": before[1][before[0][0]][0], "last": last[0],
                    "before": before[0], "stable": last[0] == before[0],
                    "last_losses": {p: v[1] for p, v in last[1].items()},
                    "before_losses": {p: v[1] for p, v in before[1].items()}})
    return out


def tied_order(means, spreads):
    """Placements by mean loss, as a list of tie groups: consecutive placements whose intervals
    mean +- spread overlap fall in one group."""
    names = sorted(means, key=lambda p: means[p])
    groups = []
    for p in names:
        if groups:
            q = groups[-1][-1]
            if means[p] - spreads[p] <= means[q] + spreads[q]:
                groups[-1].append(p)
                continue
        groups.append([p])
    return groups


def seed_mean_stability(rows):
    """Per depth with every placement finished on >= 2 seeds (the seeds they all share): the
    tie-aware ranking of the seed means at the last two evaluations."""
    out = []
    depths = sorted({r["depth"] for r in rows}, key=lambda d: int(d.split("-")[1]))
    for depth in depths:
        by_placement = {p: {r["seed"]: r for r in rows if r["depth"] == depth and
                            r["placement"] == p and r["chrf"] is not None} for p in PLACEMENTS}
        seeds = set.intersection(*(set(v) for v in by_placement.values()))
        if len(seeds) < 2:
            continue
        entry = {"depth": depth, "seeds": sorted(seeds)}
        for label, index in (("before", -2), ("last", -1)):
            means, spreads, steps = {}, {}, set()
            for p in PLACEMENTS:
                curves = [by_placement[p][sd]["valid_curve"] for sd in seeds]
                if any(len(c) < -index for c in curves):
                    break
                steps |= {c[index][0] for c in curves}
                means[p], spreads[p] = mean_spread([c[index][1] for c in curves])
            else:
                entry[label] = {"step": sorted(steps), "order": tied_order(means, spreads),
                                "mean": means, "spread": spreads}
        if "before" in entry and "last" in entry:
            entry["stable"] = entry["before"]["order"] == entry["last"]["order"]
            out.append(entry)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results", help="folder of archived runs (results/NAME/)")
    ap.add_argument("out", help="where results.{md,csv,json} go")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--planned", nargs="*", default=[], help="run names of the full experiment")
    ap.add_argument("--running", help="run directories (runs/b2t-mt): how far pending runs got")
    args = ap.parse_args()

    rows = []
    for name in sorted(os.listdir(args.results)):
        path = os.path.join(args.results, name)
        if NAME.fullmatch(name) and os.path.exists(os.path.join(path, "summary.json")):
            rows.append(collect_run(path, name))
    order = {p: i for i, p in enumerate(PLACEMENTS)}
    rows.sort(key=lambda r: (int(r["depth"].split("-")[1]), r["seed"],
                             order.get(r["placement"], 99)))
    done = {r["name"] for r in rows if r["chrf"] is not None}
    pending = [n for n in args.planned if n not in done]
    stable = stability(rows)
    stable_means = seed_mean_stability(rows)

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"runs": rows, "ranking_stability": stable,
                   "seed_mean_ranking_stability": stable_means, "pending": pending}, f, indent=1)
    keys = ["name", "placement", "depth", "seed", "status", "steps", "valid_loss", "valid_ppl",
            "bleu", "chrf", "test_segments", "dec_ratio_init", "dec_ratio_last",
            "enc_ratio_init", "enc_ratio_last", "precision", "threads", "train_wall_s",
            "train_cpu_s", "timed_steps", "s_per_step", "cpu_s_per_step", "train_cpu_est_s",
            "translate_wall_s", "cpu"]
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for r in rows:
            w.writerow([r.get(k) for k in keys])

    corpus = ""
    meta = read_json(os.path.join(args.results, "corpus-meta.json"))
    if meta:
        nd = meta.get("near_duplicates", {})
        corpus = (f"Corpus: the bundled gettext corpus (`normlab prepare-parallel`), "
                  f"{meta['splits']['train']['pairs']} training, {meta['splits']['valid']['pairs']} "
                  f"valid and {meta['splits']['test']['pairs']} test pairs, tokenizer identity "
                  f"`{meta['tokenizer_identity']}`; near-duplicates kept in one part "
                  f"({nd.get('groups')} groups, {nd.get('moved')} pairs moved). ")
    search = "greedy" if args.beam == 1 else f"beam {args.beam}"
    lines = [
        "# B2T comparison, encoder-decoder: results",
        "",
        "Generated by `experiments/b2t-mt/run.sh` (`collect.py`, from `results/*/` alone). "
        f"Test BLEU and chrF: sacreBLEU defaults (BLEU 13a mixed case; chrF2, char order 6) on the "
        f"whole test part, {search}. Valid loss: token-weighted cross-entropy without label "
        "smoothing (nats) on the whole valid part at the last step. Gradient ratio: |dL/dx| at the "
        "input of decoder block 1 over that at the input of the top decoder block (1 = flat, "
        "<< 1 = vanishing towards the bottom), at step 0 and at the last diagnostics step. "
        + corpus,
        "",
        "| run | enc-dec | seed | status | valid loss | valid ppl | test BLEU | test chrF "
        "| dec grad 1/top (init → last) | steps timed | wall s/step | CPU s/step "
        "| train CPU (est., all steps) |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['placement']} | {r['depth']} | {r['seed']} | {r['status']} "
            f"| {fmt(r['valid_loss'], '.3f')} | {fmt(r['valid_ppl'], '.1f')} "
            f"| {fmt(r['bleu'], '.1f')} | {fmt(r['chrf'], '.1f')} "
            f"| {fmt(r.get('dec_ratio_init'), '.3g')} → {fmt(r.get('dec_ratio_last'), '.3g')} "
            f"| {fmt(r['timed_steps'], 'd')} of {r['steps']} "
            f"| {fmt(r['s_per_step'], '.2f')} | {fmt(r['cpu_s_per_step'], '.2f')} "
            f"| {fmt(r['train_cpu_est_s'] and r['train_cpu_est_s'] / 3600, '.2f')} h |")

    # Mean and spread over seeds, per placement and depth.
    cells = {}
    for r in rows:
        cells.setdefault((r["depth"], r["placement"]), []).append(r)
    lines += ["", "Mean ± half-range over the seeds that finished:", "",
              "| placement | enc-dec | seeds | valid loss | test BLEU | test chrF |",
              "|---|---|---:|---:|---:|---:|"]
    for (depth, placement), group in sorted(
            cells.items(), key=lambda kv: (int(kv[0][0].split("-")[1]), order.get(kv[0][1], 99))):
        cols = []
        for key, spec in (("valid_loss", ".3f"), ("bleu", ".1f"), ("chrf", ".1f")):
            mean, spread = mean_spread([r[key] for r in group])
            cols.append(fmt(mean, spec) + ("" if len(group) < 2 or spread is None
                                           else " ± " + format(spread, spec)))
        lines.append(f"| {placement} | {depth} | {len(group)} | " + " | ".join(cols) + " |")

    lines += ["", "Validation-loss ranking over the last two evaluations (best first):", ""]
    if not stable:
        lines.append("- no depth and seed has all of " + ", ".join(PLACEMENTS) + " finished yet")
    for s in stable:
        def order_text(names, losses):
            return " < ".join(f"{p} {losses[p]:.3f}" for p in names)
        lines.append(f"- {s['depth']} seed {s['seed']}: step {s['before_step']}: "
                     f"{order_text(s['before'], s['before_losses'])}; step {s['last_step']}: "
                     f"{order_text(s['last'], s['last_losses'])} — "
                     + ("**stable**" if s["stable"] else "**changed**"))

    lines += ["", "The same over the seed means (mean ± half the seed range; `=` joins placements whose "
              "intervals overlap, a tie):", ""]
    if not stable_means:
        lines.append("- no depth has all of " + ", ".join(PLACEMENTS) + " finished with two seeds "
                     "yet")
    for s in stable_means:
        def tied_text(e):
            return " < ".join(" = ".join(f"{p} {e['mean'][p]:.3f} ± {e['spread'][p]:.3f}"
                                         for p in group) for group in e["order"])
        step_text = lambda e: "/".join(map(str, e["step"]))
        lines.append(f"- {s['depth']} seeds {', '.join(map(str, s['seeds']))}: step "
                     f"{step_text(s['before'])}: {tied_text(s['before'])}; step "
                     f"{step_text(s['last'])}: {tied_text(s['last'])} — "
                     + ("**stable**" if s["stable"] else "**changed**"))

    cpus = sorted({r["cpu"] for r in rows if r["cpu"]})
    threads = sorted({r["threads"] for r in rows if r["threads"]})
    precisions = sorted({r["precision"] for r in rows if r["precision"]})
    wall = sum(r["train_wall_s"] or 0 for r in rows) + sum(r["translate_wall_s"] or 0 for r in rows)
    cpu_s = sum(r["train_cpu_s"] or 0 for r in rows)
    cpu_est = sum(r["train_cpu_est_s"] or 0 for r in rows)
    lines += ["", f"Compute: {', '.join(cpus) or '—'}, matmuls in "
              f"{', '.join(precisions) or '—'}, {', '.join(map(str, threads)) or '—'} OpenMP "
              f"threads per run, on a machine shared with other jobs (wall times include waiting "
              f"for the cores). Timed: {wall / 3600:.1f} h of wall time (training and "
              f"translation) and {cpu_s / 3600:.1f} CPU-hours of training; calls killed at a "
              f"session's end are not timed, so the whole table's training is estimated from "
              f"each run's CPU s per step: **{cpu_est / 3600:.1f} CPU-hours**."]
    lines += ["", "Pending (planned, not finished yet): "
              + (", ".join(pending) if pending else "none") + ".", ""]
    if args.running:
        # Progress of the pending runs, from their live run directories (not archived: these lines
        # are a snapshot that a rebuild from results/ alone leaves out).
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"Progress of the pending runs that have started (snapshot at {now}):")
        lines.append("")
        for name in pending:
            metrics = read_jsonl(os.path.join(args.running, name, "metrics.jsonl"))
            if not metrics:
                continue
            evals = [r for r in metrics if "valid_loss" in r]
            train = [r for r in metrics if "tokens_per_s" in r]
            text = f"- {name}: at step {metrics[-1]['step']}"
            if evals:
                text += f", valid loss {evals[-1]['valid_loss']:.3f} at step {evals[-1]['step']}"
            if train:
                text += f", {train[-1]['tokens_per_s']:.0f} tokens/s"
            lines.append(text)

    lines += ["", "Per-block input-gradient norms at the last diagnostics step (block 1 first):", ""]
    for r in rows:
        if "dec_grad_last" not in r:
            continue
        dec = ", ".join(format(g, ".2g") for g in r["dec_grad_last"])
        enc = ", ".join(format(g, ".2g") for g in r["enc_grad_last"])
        lines.append(f"- {r['name']} (step {r['diag_step']}): decoder [{dec}]; encoder [{enc}]")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
