"""Checks the report's coordinate-check figure against the sanity-check JSONs it was drawn from:
reads what coord_points.js wrote into the dumped DOM and recomputes every point from the JSON
(independently of the page's script): for each check an activation panel (default quantity: the
mean over blocks of a block's input rms) and an update panel (the mean over blocks of |dW|/|W|),
one line per coordinate-check step, one point per depth.
Usage: python3 check_coord_points.py DOM.html CHECK.json..."""
import html
import json
import math
import re
import sys


def expected(check, quantity):
    lines = {}
    for d in sorted(check["depths"], key=lambda d: d["depth"]):
        for row in d["coord_check"]:
            vals = [b[quantity] for b in row["blocks"] if b[quantity] is not None]
            v = sum(vals) / len(vals) if vals else None
            lines.setdefault(row["step"], []).append([d["depth"], v if v and v > 0 else None])
    return [("step %d" % s, pts) for s, pts in sorted(lines.items())]


def main():
    dom = open(sys.argv[1], encoding="utf-8").read()
    found = re.findall(r'<pre id="nl-coord">([^<]*)</pre>', dom)
    if not found:
        sys.exit("the page wrote no coordinate-check points (coord_points.js did not run)")
    m = json.loads(html.unescape(found[-1]))
    bad = []
    if m["error"]:
        bad.append("page error: " + m["error"])
    if not m["panels"]:
        sys.exit("\n".join(bad + ["the coordinate-check figure is missing"]))
    checks = [json.load(open(p)) for p in sys.argv[2:]]
    if len(m["panels"]) != 2 * len(checks):
        bad.append(f"{len(m['panels'])} panels for {len(checks)} checks (expected two each)")
    for k, panel in enumerate(m["panels"]):
        check = checks[k // 2]
        quantity = "update_ratio" if k % 2 else "input_rms"
        if panel["quantity"] != quantity:
            bad.append(f"{panel['id']}: quantity {panel['quantity']}, expected {quantity}")
        want = expected(check, quantity)
        got = [(d["label"], d["points"]) for d in panel["datasets"]]
        if [w[0] for w in want] != [g[0] for g in got]:
            bad.append(f"{panel['id']}: lines {[g[0] for g in got]}, expected {[w[0] for w in want]}")
            continue
        for (label, wp), (_, gp) in zip(want, got):
            for (wx, wy), (gx, gy) in zip(wp, gp):
                same = (wy is None and gy is None) or (
                    wy is not None and gy is not None and math.isclose(wy, gy, rel_tol=1e-9))
                if wx != gx or not same:
                    bad.append(f"{panel['id']} {label}: point ({gx}, {gy}), expected ({wx}, {wy})")
            if len(wp) != len(gp):
                bad.append(f"{panel['id']} {label}: {len(gp)} points, expected {len(wp)}")
        if panel["drawn"] < sum(1 for _, pts in want for p in pts if p[1] is not None):
            bad.append(f"{panel['id']}: only {panel['drawn']} points drawn")
    if bad:
        sys.exit("\n".join(bad))


main()
