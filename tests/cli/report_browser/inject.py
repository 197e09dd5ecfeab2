"""Copies a report page with capture_console.js first in <head> and measure_charts.js (or the
script named by the third argument, e.g. coord_points.js) last in <body>.
Usage: python3 inject.py IN.html OUT.html [TAIL_SCRIPT.js]"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
page = open(sys.argv[1], encoding="utf-8").read()
head = open(os.path.join(here, "capture_console.js"), encoding="utf-8").read()
tail_name = sys.argv[3] if len(sys.argv) > 3 else "measure_charts.js"
tail = open(os.path.join(here, tail_name), encoding="utf-8").read()
assert page.count("<head>") == 1 and page.count("</body>") == 1, "unexpected page structure"
page = page.replace("<head>", "<head>\n<script>\n" + head + "</script>", 1)
page = page.replace("</body>", "<script>\n" + tail + "</script>\n</body>", 1)
open(sys.argv[2], "w", encoding="utf-8").write(page)
