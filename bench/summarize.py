#!/usr/bin/python3
"""Table of a bench/run.sh results file (one JSON object per line: matmul_peak, normlab, pytorch).

"fp32 by CPU time" = the least CPU time per step (all threads) of PyTorch's fp32 runs / normlab's
fp32 CPU time per step: a speed ratio that does not count time spent descheduled on a shared
machine.
MFU = tokens/s x FLOPs per token / the matmul peak measured in the same run, for the precision of
the run (bf16 peak for bf16 runs, f32 peak for f32 runs). FLOPs per token = 6 N + 12 L T d
(PaLM's count, Chowdhery et al. 2022, appendix B; N = weights entering a product, including the
tied head; attention counted over the full T x T), printed by normlab_bench as flops_per_token and
used for PyTorch too (same shapes).
"""
import json
import sys

ORDER = ["reference", "deep24", "deep48", "long", "gpt2small"]
LAYERS = {"reference": 6, "deep24": 24, "deep48": 48}


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    peak = next((r for r in rows if r["impl"] == "matmul_peak"), None)
    peaks = {}
    if peak:
        peaks = {"fp32": peak["f32_gflops"], "bf16": peak["bf16_gflops"]}
        bf16 = f"{peak['bf16_gflops']:.0f}" if peak["bf16_gflops"] else "n/a (no bf16 kernels)"
        print(f"matmul peak ({peak['threads']} threads, oneDNN ISA {peak['isa']}): "
              f"f32 {peak['f32_gflops']:.0f} GFLOP/s, bf16 {bf16} GFLOP/s")
    configs = [c for c in ORDER if any(r.get("config") == c for r in rows)]

    def mfu(r):
        p = peaks.get(r["precision"])
        if not p or "flops" not in r:
            return "—"
        return f"{100 * r['tokens_per_s'] * r['flops'] / (p * 1e9):.1f}%"

    print()
    print("| config | normlab bf16 tok/s | normlab fp32 tok/s | PyTorch best tok/s (threads, "
          "precision) | PyTorch best fp32 tok/s | bf16 / PT best | fp32 / PT best fp32 | "
          "fp32 by CPU time | MFU normlab bf16 | MFU normlab fp32 | MFU PT best | "
          "RSS normlab bf16 / fp32 | RSS PT (best run; min) |")
    print("|---|" + "---:|" * 12)
    tl = {}
    targets = []
    for c in configs:
        nl = {r["precision"]: r for r in rows if r["impl"] == "normlab" and r["config"] == c}
        pt = [r for r in rows if r["impl"] == "pytorch" and r["config"] == c]
        flops = next((r["flops_per_token"] for r in nl.values()), None)
        for r in list(nl.values()) + pt:
            r["flops"] = flops
        best = max(pt, key=lambda r: r["tokens_per_s"]) if pt else None
        pt32 = [r for r in pt if r["precision"] == "fp32"]
        best32 = max(pt32, key=lambda r: r["tokens_per_s"]) if pt32 else None
        b, f = nl.get("bf16"), nl.get("fp32")

        def tok(r):
            return f"{r['tokens_per_s']:.0f}" if r else "—"

        def ratio(a, z):
            return f"{a['tokens_per_s'] / z['tokens_per_s']:.2f}" if a and z else "—"

        rss_nl = " / ".join(f"{r['peak_rss_mb']:.0f}" if r else "—" for r in (b, f))
        rss_pt = (f"{best['peak_rss_mb']:.0f}; {min(r['peak_rss_mb'] for r in pt):.0f}"
                  if best else "—")
        best_s = f"{tok(best)} ({best['threads']}, {best['precision']})" if best else "—"
        # CPU time per step of all threads: on a shared machine wall time includes time spent
        # descheduled, CPU time does not. PyTorch's least CPU per step against normlab's.
        cpu = (f"{min(r['cpu_ms_per_step'] for r in pt32) / f['cpu_ms_per_step']:.2f}"
               if f and pt32 else "—")
        print(f"| {c} | {tok(b)} | {tok(f)} | {best_s} | {tok(best32)} | {ratio(b, best)} | "
              f"{ratio(f, best32)} | {cpu} | {mfu(b) if b else '—'} | {mfu(f) if f else '—'} | "
              f"{mfu(best) if best else '—'} | {rss_nl} MB | {rss_pt} MB |")
        fastest = b or f
        if c in LAYERS and fastest:
            tl[c] = (fastest["precision"], fastest["tokens_per_s"] * LAYERS[c])
        if best:
            worst_rss = max(r["peak_rss_mb"] for r in nl.values())
            targets.append(f"{c}: normlab peak RSS {worst_rss:.0f} MB vs PyTorch "
                           f"{min(r['peak_rss_mb'] for r in pt):.0f} MB (lowest of its runs): "
                           f"{'below' if worst_rss < min(r['peak_rss_mb'] for r in pt) else 'NOT below'}")
    if tl:
        print()
        print("tokens/s x layers: " + ", ".join(f"{c} ({p}) {v:.0f}" for c, (p, v) in tl.items()))
        vals = [v for _, v in tl.values()]
        if len(vals) > 1:
            print(f"  spread (max/min - 1): {100 * (max(vals) / min(vals) - 1):.1f}%")
            # Time per token is affine in depth, fixed + L x per-layer (the embedding, the tied
            # head and the loss do not grow with L): cost linear in depth means a constant
            # marginal cost per layer between consecutive depths.
            pts = sorted((LAYERS[c], 1e6 * LAYERS[c] / v) for c, (_, v) in tl.items())
            marginal = [((t2 - t1) / (l2 - l1), l1, l2)
                        for (l1, t1), (l2, t2) in zip(pts, pts[1:])]
            print("  marginal cost per layer (us per token): " +
                  ", ".join(f"{l1}->{l2} layers {m:.2f}" for m, l1, l2 in marginal))
            ms = [m for m, _, _ in marginal]
            if len(ms) > 1:
                print(f"  spread of the marginal cost: {100 * (max(ms) / min(ms) - 1):.1f}%; "
                      f"fixed cost {pts[0][1] - pts[0][0] * ms[0]:.2f} us per token "
                      f"(= {(pts[0][1] - pts[0][0] * ms[0]) / ms[0]:.2f} layers)")
    if targets:
        print()
        print("\n".join(targets))


if __name__ == "__main__":
    main()
