// The report page's shared helpers, first of the page's script files (their order is
// NORMLAB_REPORT_SCRIPTS in CMakeLists.txt; the build concatenates them after Chart.js, see
// render_report_html() in src/report/report_html.cpp). Defines window.NL: the data written by
// report_data_json(), run colours and labels, one number format for every axis, the log-axis
// ticks, panels for small multiples with shared axes, and the chart registry. Each chart kind lives
// in its own file and registers itself with NL.register(); report_main.js draws them in order.
(function () {
  'use strict';
  const NL = (window.NL = {});
  const D = JSON.parse(document.getElementById('normlab-data').textContent);
  NL.PNG = !!D.png;
  NL.runs = D.runs;
  // Placement presets in the order they are defined (post, pre, peri, b2t, ...), for row order.
  NL.placements = D.placements || [];
  NL.checks = D.checks || [];  // sanity-check JSONs: the coordinate-check figure's data
  const runs = NL.runs;

  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
    '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#e6550d', '#31a354', '#843c39', '#7b4173',
    '#3182bd', '#fd8d3c', '#74c476', '#9e9ac8', '#636363'];
  NL.GROUP_PALETTE = PALETTE.filter((c) => c !== '#d62728' && c !== '#843c39');
  NL.isNum = (v) => typeof v === 'number' && isFinite(v);
  NL.fmt = (v, d) => (NL.isNum(v) ? v.toFixed(d === undefined ? 4 : d) : '');

  // ---- viridis (matplotlib), 10 stops: t in [0, 1] -> 'rgb(...)'; the colour scale of every
  // heat map of the page.
  const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
  NL.viridisRgb = (t) => {
    const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
    const k = Math.min(VIRIDIS.length - 2, Math.floor(x));
    const f = x - k;
    return VIRIDIS[k].map((v, j) => Math.round(v + f * (VIRIDIS[k + 1][j] - v)));
  };
  NL.viridis = (t) => 'rgb(' + NL.viridisRgb(t).join(',') + ')';

  // ---- one number format for every tick, colour bar and tooltip: plain decimals from 0.01 to
  // 9999 ("0.05", "1", "250"), otherwise "1e-3" / "2.5e-4" / "3e5". Three significant digits.
  NL.fmtNum = (v) => {
    if (!NL.isNum(v)) return '';
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 0.01 && a < 1e4) return String(Number(v.toPrecision(3)));
    let e = Math.floor(Math.log10(a));
    let m = Number((v / Math.pow(10, e)).toPrecision(3));
    if (Math.abs(m) >= 10) { m /= 10; e += 1; }
    return String(m) + 'e' + e;
  };

  // ---- log axes: limits snapped outwards to 1, 2 or 5 times a power of ten; ticks at every
  // decade (1, 10, 100 or 1e-3, 0.01, ...) when three or more decades lie on the axis, else at
  // 1-2-5 steps (two decade ticks alone would leave most of the axis unlabelled).
  // Every log axis of the page and the heat maps' colour bars use these.
  const snap125 = (v, up) => {
    const e = Math.floor(Math.log10(v));
    const steps = up ? [1, 2, 5, 10] : [10, 5, 2, 1];
    for (const m of steps) {
      const t = m * Math.pow(10, e);
      if (up ? t >= v * (1 - 1e-9) : t <= v * (1 + 1e-9)) return Number(t.toPrecision(3));
    }
    return v;
  };
  NL.logLimits = (lo, hi) => {
    if (!(lo > 0) || !(hi > 0)) return { min: 0.1, max: 10 };
    if (hi <= lo) { lo /= 2; hi *= 2; }
    return { min: snap125(lo, false), max: snap125(hi, true) };
  };
  NL.logTickValues = (min, max) => {
    const out = [];
    const e0 = Math.ceil(Math.log10(min) - 1e-9), e1 = Math.floor(Math.log10(max) + 1e-9);
    if (e1 - e0 >= 2) {
      for (let e = e0; e <= e1; e++) out.push(Number(Math.pow(10, e).toPrecision(3)));
      return out;
    }
    for (let e = e0 - 1; e <= e1 + 1; e++)
      for (const m of [1, 2, 5]) {
        const t = Number((m * Math.pow(10, e)).toPrecision(3));
        if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) out.push(t);
      }
    return out;
  };
  NL.logAxis = (title) => ({
    type: 'logarithmic',
    title: { display: true, text: title },
    afterDataLimits(axis) {
      const l = NL.logLimits(axis.min, axis.max);
      if (axis.options.min === undefined) axis.min = l.min;
      if (axis.options.max === undefined) axis.max = l.max;
    },
    afterBuildTicks(axis) {
      axis.ticks = NL.logTickValues(axis.min, axis.max).map((v) => ({ value: v, major: true }));
    },
    ticks: { callback: (v) => NL.fmtNum(v), autoSkip: false },
  });
  NL.linearAxis = (title) => ({
    type: 'linear', title: { display: true, text: title },
    ticks: { callback: (v) => NL.fmtNum(v) },
  });

  // ---- labels. A legend shows only the config properties that differ between the runs it
  // draws ("post L18 dt0.1"); the full run (directory and config) is in the tooltips.
  const LABEL_FIELDS = [
    ['placement', (r) => r.placement], ['norm', (r) => r.norm],
    ['L', (r) => (r.n_layers ? 'L' + r.n_layers : '')], ['dt', (r) => (r.dt ? 'dt' + r.dt : '')],
    ['lr', (r) => (r.lr ? 'lr' + r.lr : '')], ['seed', (r) => (r.seed ? 'seed' + r.seed : '')]];
  NL.shortLabels = (idx) => {
    const fields = LABEL_FIELDS.filter(([, get]) => new Set(idx.map((i) => get(runs[i]))).size > 1);
    const labels = idx.map((i) => fields.map(([, get]) => get(runs[i])).filter((s) => s).join(' '));
    // A lone run is named by its directory. Runs that those properties do not tell apart get the
    // first two other config values that differ between them ("L4 d_model32 steps40"), else a
    // number: a directory name could be wider than the chart.
    const groups = new Map();
    labels.forEach((l, k) => groups.set(l, (groups.get(l) || []).concat([idx[k]])));
    const out = new Map();
    groups.forEach((members, l) => {
      if (members.length === 1) {
        out.set(members[0], l || runs[members[0]].name);
        return;
      }
      const cfg = (i) => runs[i].config || {};
      const keys = [...new Set(members.flatMap((i) => Object.keys(cfg(i))))].sort()
        .filter((key) => new Set(members.map((i) => cfg(i)[key])).size > 1).slice(0, 2);
      members.forEach((i, k) => {
        const extra = keys.length ? keys.map((key) => key + (cfg(i)[key] === undefined ? '?' :
          cfg(i)[key])).join(' ') : '#' + (k + 1);
        out.set(i, (l ? l + ' ' : '') + extra);
      });
    });
    return out;
  };
  const TOOLTIP_KEYS = ['arch', 'placement', 'norm', 'n_layers', 'd_model', 'n_heads', 'd_ff',
    'dt', 'lr', 'schedule', 'warmup', 'steps', 'batch_size', 'seq_len', 'seed'];
  runs.forEach((r, i) => {
    r.color = PALETTE[i % PALETTE.length];
    const cfg = r.config || {};
    const parts = TOOLTIP_KEYS.filter((k) => cfg[k] !== undefined && cfg[k] !== '')
      .map((k) => k + '=' + cfg[k]);
    r.fullName = r.dir + (parts.length ? ' (' + parts.join(', ') + ')' : '') + ' [' + r.status + ']';
  });
  const all = runs.map((r, i) => i);
  const globalLabels = NL.shortLabels(all);
  runs.forEach((r, i) => {
    const l = globalLabels.get(i);
    r.label = l === r.name ? r.name : r.name + ' (' + l + ')';
  });

  // ---- small multiples. Above this many runs a figure of per-run curves is split into panels,
  // one per value of the first property that varies (placement, then depth, dt, norm, lr), with
  // the same axis limits in every panel.
  NL.SMALL_MULTIPLES_ABOVE = 8;
  const PANEL_KEYS = [['placement', (r) => r.placement || '?', (v) => v],
    ['n_layers', (r) => r.n_layers, (v) => 'L = ' + v], ['dt', (r) => r.dt, (v) => 'dt = ' + v],
    ['norm', (r) => r.norm, (v) => v], ['lr', (r) => r.lr, (v) => 'lr = ' + v]];
  NL.panelGroups = (idx) => {
    if (idx.length <= NL.SMALL_MULTIPLES_ABOVE) return [{ title: '', runs: idx }];
    for (const [, get, name] of PANEL_KEYS) {
      const values = [...new Set(idx.map((i) => get(runs[i])))];
      if (values.length < 2) continue;
      values.sort((a, b) => (typeof a === 'number' ? a - b :
        String(a).localeCompare(String(b), undefined, { numeric: true })));
      return values.map((v) => ({ title: name(v), runs: idx.filter((i) => get(runs[i]) === v) }));
    }
    const out = [];
    for (let k = 0; k < idx.length; k += NL.SMALL_MULTIPLES_ABOVE)
      out.push({ title: 'runs ' + (k + 1) + '-' + Math.min(idx.length, k + NL.SMALL_MULTIPLES_ABOVE),
        runs: idx.slice(k, k + NL.SMALL_MULTIPLES_ABOVE) });
    return out;
  };

  // Opaque background so exported PNGs are not transparent.
  NL.whiteBackground = {
    id: 'whiteBackground',
    beforeDraw(chart) {
      const c = chart.ctx;
      c.save();
      c.globalCompositeOperation = 'destination-over';
      c.fillStyle = '#ffffff';
      c.fillRect(0, 0, chart.width, chart.height);
      c.restore();
    }
  };

  // Chart options shared by the charts of runs against x. Datasets carry `run` (index) and
  // `fullName`; hovering a legend entry shows the full name as the canvas's tooltip.
  NL.baseOptions = (title, xAxis, yAxis) => {
    const o = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: false },
      plugins: {
        title: { display: !!title, text: title, font: { size: 15 } },
        legend: {
          position: 'right', labels: { boxWidth: 18, font: { size: 11 } },
          onHover: (e, item, legend) => {
            const ds = legend.chart.data.datasets[item.datasetIndex];
            legend.chart.canvas.title = (ds && ds.fullName) || item.text;
          },
          onLeave: (e, item, legend) => { legend.chart.canvas.title = ''; },
        },
        tooltip: { callbacks: {
          title: (items) => (items.length ? items[0].dataset.fullName || items[0].dataset.label : ''),
          label: (ctx) => ctx.dataset.label + ': ' + NL.fmtNum(ctx.parsed.y) + ' at ' +
            NL.fmtNum(ctx.parsed.x),
        } },
      },
      scales: { x: xAxis, y: yAxis },
    };
    if (NL.PNG) o.devicePixelRatio = 2;
    return o;
  };

  // ---- figures: a section holding one or more panels (Chart.js instances).
  NL.section = (n, title, controlsHtml, captionHtml) => {
    const s = document.createElement('section');
    s.id = 's' + n;
    s.innerHTML = '<h2>' + n + '. ' + title + '</h2>' +
      (controlsHtml ? '<div class="controls">' + controlsHtml + '</div>' : '') +
      '<div class="panels"></div><p class="caption">' + captionHtml + '</p>' +
      '<p class="empty" id="c' + n + '-empty"></p>';
    document.getElementById('figures').appendChild(s);
    return s;
  };
  NL.setEmpty = (n, text) => { document.getElementById('c' + n + '-empty').textContent = text || ''; };
  // The canvases of `count` panel boxes in section n: "chart-N", then "chart-N-p2", ... All are
  // laid out before any chart is made, since Chart.js sizes a chart from its box when created.
  NL.panelCanvases = (section, n, count, boxClass) => {
    const holder = section.querySelector('.panels');
    holder.classList.toggle('grid', count > 1);
    const out = [];
    for (let k = 0; k < count; k++) {
      const box = document.createElement('div');
      box.className = 'chart-box' + (count > 1 ? ' panel' : '') + (boxClass ? ' ' + boxClass : '');
      const canvas = document.createElement('canvas');
      canvas.id = 'chart-' + n + (k ? '-p' + (k + 1) : '');
      box.appendChild(canvas);
      holder.appendChild(box);
      out.push(canvas);
    }
    return out;
  };

  // Gives every panel the union of the panels' axis limits. `fixed` holds limits the figure sets
  // itself ({y: {max: cap}}); the others are cleared, left to Chart.js, then shared.
  NL.shareAxes = (charts, fixed) => {
    if (!charts.length) return;
    for (const ax of ['x', 'y']) {
      const f = (fixed && fixed[ax]) || {};
      charts.forEach((c) => { c.options.scales[ax].min = f.min; c.options.scales[ax].max = f.max; });
    }
    charts.forEach((c) => c.update());
    if (charts.length < 2) return;
    for (const ax of ['x', 'y']) {
      const lo = Math.min(...charts.map((c) => c.scales[ax].min));
      const hi = Math.max(...charts.map((c) => c.scales[ax].max));
      charts.forEach((c) => { c.options.scales[ax].min = lo; c.options.scales[ax].max = hi; });
    }
    charts.forEach((c) => c.update());
  };

  // One PNG of a figure: its panels side by side as laid out on the page.
  NL.figurePng = (charts) => {
    if (charts.length === 1) return charts[0].toBase64Image('image/png', 1);
    const boxes = charts.map((c) => c.canvas.getBoundingClientRect());
    const x0 = Math.min(...boxes.map((b) => b.left)), y0 = Math.min(...boxes.map((b) => b.top));
    const scale = charts[0].canvas.width / boxes[0].width;
    const out = document.createElement('canvas');
    out.width = Math.ceil((Math.max(...boxes.map((b) => b.right)) - x0) * scale);
    out.height = Math.ceil((Math.max(...boxes.map((b) => b.bottom)) - y0) * scale);
    const ctx = out.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, out.width, out.height);
    charts.forEach((c, k) => ctx.drawImage(c.canvas, (boxes[k].left - x0) * scale,
      (boxes[k].top - y0) * scale, boxes[k].width * scale, boxes[k].height * scale));
    return out.toDataURL('image/png');
  };

  // A figure of per-run curves: one panel, or small multiples (NL.panelGroups) with shared axes.
  // spec: {n, section, runs: indices drawn, title: panel title -> chart title,
  //   axes: () => ({x, y}), datasets: (run index, short label) -> [dataset...],
  //   fixed: () => limits for NL.shareAxes, legendFilter (optional)}.
  // Returns {charts, refresh()}: refresh() rebuilds the datasets and re-shares the axes.
  NL.runCurvesFigure = (spec) => {
    const groups = NL.panelGroups(spec.runs);
    const canvases = NL.panelCanvases(spec.section, spec.n, groups.length);
    const charts = groups.map((g, k) => {
      const canvas = canvases[k];
      const axes = spec.axes();
      const opts = NL.baseOptions(spec.title(g.title), axes.x, axes.y);
      if (groups.length > 1) {
        opts.plugins.legend.position = 'bottom';
        opts.plugins.title.font = { size: 13 };
      }
      if (spec.legendFilter) opts.plugins.legend.labels.filter = spec.legendFilter;
      if (spec.legendOnClick) opts.plugins.legend.onClick = spec.legendOnClick;
      const chart = new Chart(canvas, { type: 'line', data: { datasets: [] }, options: opts,
        plugins: [NL.whiteBackground] });
      chart.$group = g;
      return chart;
    });
    const refresh = () => {
      charts.forEach((c) => {
        const labels = NL.shortLabels(c.$group.runs);
        c.data.datasets = c.$group.runs.flatMap((i) => spec.datasets(i, labels.get(i)));
        c.options.plugins.title.text = spec.title(c.$group.title);
        const axes = spec.axes();
        c.options.scales.x = axes.x;
        c.options.scales.y = axes.y;
      });
      NL.shareAxes(charts, spec.fixed ? spec.fixed() : undefined);
    };
    refresh();
    return { charts: charts, refresh: refresh };
  };
  // A run's curve [[step, value]...] as a line dataset (non-positive values are gaps on log axes).
  NL.curveDataset = (i, label, curve, extra) => {
    const r = runs[i];
    const data = curve.map((p) => ({ x: p[0], y: p[1] }));
    return Object.assign({ label: label, fullName: r.fullName, run: i, data: data,
      borderColor: r.color, backgroundColor: r.color, borderWidth: 1.5,
      pointRadius: data.length > 1 ? 0 : 3, spanGaps: false }, extra || {});
  };

  // ---- the registry: NL.register(n, key, make, source) with make() returning
  // {charts: [Chart...], pngs: () => [[name, dataURL]...]}, or null when the figure is absent.
  // `source` names the data the figure draws, 'runs' (the default) or 'checks' (sanity checks):
  // a page without that data leaves the figure out (a report of checks alone has no loss chart).
  NL.figures = [];
  NL.register = (n, key, make, source) =>
    NL.figures.push({ n: n, key: key, make: make, source: source || 'runs' });

  NL.fillSelect = (sel, items) => {
    sel.innerHTML = '';
    items.forEach(([value, text]) => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      sel.appendChild(o);
    });
  };
})();
