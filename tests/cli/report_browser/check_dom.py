"""Checks on a report page measured in headless Chromium: reads the JSON that measure_charts.js
wrote into the dumped DOM and runs one named check, printing what is wrong and exiting 1 if
anything is. Usage: python3 check_dom.py DOM.html CHECK [ARG]

Checks:
  console            no console.error / console.warn, uncaught exception or rejection
  ready N            the page drew N figures (body data-charts-ready)
  drawn              every chart has data elements (heat maps: coloured cells) and ink
  legends            every legend entry lies inside its canvas and the canvas inside its panel
                     and section, and its text fits its entry (nothing cut off)
  short-labels       legend labels are short (at most 40 characters) and never the directory
                     name; hovering an entry shows the full run (directory and config)
  small-multiples S  section S is split into panels that share both axes' limits
  log-ticks          every log axis has ticks at every decade when three or more lie on it, else
                     at every 1-2-5 step, labelled in the one number format
  units              loss axes say nats/token, step axes say step
  colour-bars        every heat map has a colour bar inside its canvas
"""
import html
import json
import math
import re
import sys

NUMBER = re.compile(r"^-?(\d+(\.\d+)?|\d(\.\d+)?e-?\d+)$")


def load(path):
    dom = open(path, encoding="utf-8").read()
    found = re.findall(r'<pre id="nl-check">(.*?)</pre>', dom, re.S)
    if not found:
        sys.exit("the page wrote no measurements (measure_charts.js did not run)")
    return json.loads(html.unescape(found[-1]))


def inside(inner, outer, tol=1.0):
    return (inner["left"] >= outer["left"] - tol and inner["top"] >= outer["top"] - tol and
            inner["right"] <= outer["right"] + tol and inner["bottom"] <= outer["bottom"] + tol)


def check_legends(m):
    bad = []
    for c in m["charts"]:
        canvas = {"left": 0, "top": 0, "right": c["width"], "bottom": c["height"]}
        if not inside(c["canvasBox"], c["panelBox"]) or not inside(c["panelBox"], c["sectionBox"]):
            bad.append(f"{c['id']}: canvas {c['canvasBox']} outside its panel or section")
        for item in c["legend"]:
            if not inside(item["box"], canvas):
                bad.append(f"{c['id']}: legend entry {item['text']!r} at {item['box']} is outside "
                           f"the {c['width']}x{c['height']} chart")
            width = item["box"]["right"] - item["box"]["left"]
            if item["textWidth"] + item["boxWidth"] > width + 1:
                bad.append(f"{c['id']}: legend text {item['text']!r} ({item['textWidth']:.0f} px) "
                           f"does not fit its entry ({width:.0f} px)")
    if not any(c["legend"] for c in m["charts"]):
        bad.append("no chart has a legend")
    return bad


def check_short_labels(m):
    bad = []
    for c in m["charts"]:
        if c["section"] == "s4":
            continue  # its entries are groups of runs
        for item in c["legend"]:
            run_dir = item["fullName"].split(" (")[0].rstrip("/")
            if not run_dir or "=" not in item["fullName"]:
                bad.append(f"{c['id']}: entry {item['text']!r} has no run directory and config "
                           "for its tooltip")
                continue
            if item["hover"] != item["fullName"]:
                bad.append(f"{c['id']}: hovering {item['text']!r} shows {item['hover']!r}, "
                           f"want the full run {item['fullName']!r}")
            if run_dir.rsplit("/", 1)[-1] in item["text"]:
                bad.append(f"{c['id']}: label {item['text']!r} holds the directory name")
            if len(item["text"]) > 40:
                bad.append(f"{c['id']}: label {item['text']!r} is longer than 40 characters")
    return bad


def check_small_multiples(m, section):
    panels = [c for c in m["charts"] if c["section"] == section]
    if len(panels) < 2:
        return [f"{section}: {len(panels)} panel(s), want small multiples"]
    bad = []
    for ax in ("x", "y"):
        limits = {(round(p["axes"][ax]["min"], 9), round(p["axes"][ax]["max"], 9)) for p in panels}
        if len(limits) != 1:
            bad.append(f"{section}: the panels' {ax} limits differ: {sorted(limits)}")
    return bad


def check_log_ticks(m):
    bad = []
    seen = 0
    for c in m["charts"]:
        for key, ax in c["axes"].items():
            if ax["type"] != "logarithmic":
                continue
            seen += 1
            values = [t["value"] for t in ax["ticks"]]
            lo, hi = ax["min"], ax["max"]
            on_axis = [10.0 ** e for e in range(-30, 31) if lo * (1 - 1e-9) <= 10.0 ** e <= hi * (1 + 1e-9)]
            mantissa = lambda v: round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6)
            if len(on_axis) >= 3:
                want = on_axis
            else:
                want = [m * 10.0 ** e for e in range(-30, 31) for m in (1, 2, 5)
                        if lo * (1 - 1e-9) <= m * 10.0 ** e <= hi * (1 + 1e-9)]
            if len(want) != len(values) or any(not math.isclose(a, b, rel_tol=1e-6)
                                               for a, b in zip(sorted(want), sorted(values))):
                bad.append(f"{c['id']}.{key}: axis {lo}..{hi} has ticks {values}, want {want} "
                           "(decades when three lie on the axis, else 1-2-5)")
            if any(mantissa(v) not in (1, 2, 5) for v in values):
                bad.append(f"{c['id']}.{key}: ticks {values} are not 1, 2 or 5 times a power of 10")
            if len(values) < 2:
                bad.append(f"{c['id']}.{key}: fewer than two ticks ({values})")
            for t in ax["ticks"]:
                if not NUMBER.match(t["label"]) or not math.isclose(float(t["label"]), t["value"],
                                                                   rel_tol=1e-6):
                    bad.append(f"{c['id']}.{key}: tick {t['value']} labelled {t['label']!r}")
    if not seen:
        bad.append("no log axis found")
    return bad


def check_units(m):
    bad = []
    for c in m["charts"]:
        for key, ax in c["axes"].items():
            title = ax["title"] or ""
            if "loss" in title and "nats/token" not in title:
                bad.append(f"{c['id']}.{key}: loss axis {title!r} without nats/token")
        if c["section"] in ("s1", "s5", "s6", "s7", "s8") and c["axes"]["x"]["title"] != "step":
            bad.append(f"{c['id']}: x axis {c['axes']['x']['title']!r}, want 'step'")
    return bad


def main():
    m = load(sys.argv[1])
    what = sys.argv[2]
    if what == "console":
        bad = m["console"]
    elif what == "ready":
        bad = [] if m["ready"] == sys.argv[3] else [f"data-charts-ready={m['ready']!r}"]
    elif what == "drawn":
        bad = [f"{c['id']}: {c['elements']} data elements, {c['heatCells']} cells, ink {c['ink']}"
               for c in m["charts"]
               if c["elements"] < 1 or c["ink"] < 200 or c["heatCells"] == 0]
        if not m["charts"]:
            bad.append("no chart")
    elif what == "legends":
        bad = check_legends(m)
    elif what == "short-labels":
        bad = check_short_labels(m)
    elif what == "small-multiples":
        bad = check_small_multiples(m, sys.argv[3])
    elif what == "log-ticks":
        bad = check_log_ticks(m)
    elif what == "units":
        bad = check_units(m)
    elif what == "colour-bars":
        heat = [c for c in m["charts"] if c["heatCells"] is not None]
        bad = [f"{c['id']}: colour bar {c['colourBar']} outside the {c['width']}x{c['height']} chart"
               for c in heat if not c["colourBar"] or not inside(
                   c["colourBar"], {"left": 0, "top": 0, "right": c["width"], "bottom": c["height"]})]
        if not heat:
            bad.append("no heat map")
    else:
        sys.exit(f"unknown check {what!r}")
    for line in bad:
        print(line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
