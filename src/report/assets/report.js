// The report page's script, inlined after Chart.js by render_report_html()
// (src/report/report_html.cpp); the build embeds this file (cmake/embed_file.cmake). It reads the
// JSON written by report_data_json() from the normlab-data element and draws the charts with
// Chart.js. At the end it marks the body with the number of charts drawn and, on any error, with
// the error text: the end-to-end test and the PNG export read those two attributes (their names
// are in the last lines). This text is part of the page and those checks search the page, so do
// not write an attribute with its value in a comment here.
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('normlab-data').textContent);
  const PNG = !!D.png;
  const runs = D.runs;
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
    '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#e6550d', '#31a354', '#843c39', '#7b4173',
    '#3182bd', '#fd8d3c', '#74c476', '#9e9ac8', '#636363'];
  const color = (i) => PALETTE[i % PALETTE.length];
  const GROUP_PALETTE = PALETTE.filter((c) => c !== '#d62728' && c !== '#843c39');
  const isNum = (v) => typeof v === 'number' && isFinite(v);
  const fmt = (v, d) => (isNum(v) ? v.toFixed(d === undefined ? 4 : d) : '');

  runs.forEach((r, i) => {
    r.color = color(i);
    const parts = [];
    if (r.placement) parts.push(r.placement);
    if (r.n_layers) parts.push('L=' + r.n_layers);
    if (r.dt) parts.push('dt=' + r.dt);
    r.label = parts.length ? r.name + ' (' + parts.join(' ') + ')' : r.name;
  });

  // Opaque background so exported PNGs are not transparent.
  const whiteBackground = {
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

  // Chart.js labels only the 1, 2 and 5 ticks of a log axis; when the data span less than a
  // decade that can leave one or two labels, so label every tick there.
  function logTick(v, i, ticks) {
    const lo = ticks[0].value, hi = ticks[ticks.length - 1].value;
    const mant = Math.round(v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9)));
    if (hi / lo > 10 && mant !== 1 && mant !== 2 && mant !== 5) return '';
    return String(Number(v.toPrecision(3)));
  }

  function baseOptions(title, xTitle, yTitle, yLog) {
    const o = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: false },
      plugins: {
        title: { display: true, text: title, font: { size: 15 } },
        legend: { position: 'right', labels: { boxWidth: 18, font: { size: 11 } } },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: xTitle } },
        y: { type: yLog ? 'logarithmic' : 'linear', title: { display: true, text: yTitle } },
      },
    };
    if (yLog) o.scales.y.ticks = { callback: logTick };
    if (PNG) o.devicePixelRatio = 2;
    return o;
  }

  function setEmpty(id, text) { document.getElementById(id).textContent = text || ''; }

  // ---- 1. loss curves
  function lossDatasets() {
    const out = [];
    runs.forEach((r, i) => {
      const pts = (c) => c.map((p) => ({ x: p[0], y: p[1] }));
      out.push({ label: r.label, run: i, kind: 'train', data: pts(r.train), borderColor: r.color,
        backgroundColor: r.color, borderWidth: 1.5, pointRadius: r.train.length > 1 ? 0 : 3,
        spanGaps: false });
      out.push({ label: r.label + ' (valid)', run: i, kind: 'valid', data: pts(r.valid),
        borderColor: r.color, backgroundColor: r.color, borderWidth: 1.5, borderDash: [6, 4],
        pointRadius: 2, spanGaps: false });
    });
    return out;
  }
  // Diverging runs reach losses far above the rest; by default the axis stops at the largest
  // first recorded loss (about ln V at initialisation), above which nothing is informative.
  function initialLossCap() {
    let cap = -Infinity;
    runs.forEach((r) => {
      for (const c of [r.train, r.valid]) {
        const first = c.find((p) => isNum(p[1]));
        if (first) cap = Math.max(cap, first[1]);
      }
    });
    return isFinite(cap) ? cap * 1.05 : undefined;
  }
  function makeLossChart() {
    const opts = baseOptions('Loss vs step (solid: train, dashed: validation)', 'step', 'loss',
      false);
    opts.plugins.legend.labels.filter = (item, data) =>
      data.datasets[item.datasetIndex].kind === 'train';
    opts.plugins.legend.onClick = (e, item, legend) => {
      const ch = legend.chart;
      const run = ch.data.datasets[item.datasetIndex].run;
      const visible = ch.isDatasetVisible(item.datasetIndex);
      ch.data.datasets.forEach((d, k) => { if (d.run === run) ch.setDatasetVisibility(k, !visible); });
      ch.update();
    };
    const cap = initialLossCap();
    if (cap !== undefined) opts.scales.y.max = cap;
    const chart = new Chart(document.getElementById('chart-1'), {
      type: 'line', data: { datasets: lossDatasets() }, options: opts, plugins: [whiteBackground] });
    if (!runs.some((r) => r.train.length || r.valid.length)) setEmpty('c1-empty', 'No run has metrics.jsonl.');
    const logBox = document.getElementById('c1-log');
    const clipBox = document.getElementById('c1-clip');
    const apply = () => {
      chart.options.scales.y.type = logBox.checked ? 'logarithmic' : 'linear';
      chart.options.scales.y.max = clipBox.checked ? cap : undefined;
      chart.update();
    };
    logBox.addEventListener('change', apply);
    clipBox.addEventListener('change', apply);
    return chart;
  }

  // ---- 2 and 3. per-block profiles from diagnostics.jsonl
  function probeAt(r, sel) {
    if (!r.probes.length) return null;
    if (sel === 'last') return r.probes.reduce((a, b) => (b.step >= a.step ? b : a));
    if (sel === 'first') return r.probes.reduce((a, b) => (b.step < a.step ? b : a));
    const s = Number(sel);
    return r.probes.find((p) => p.step === s) || null;
  }
  function profileDatasets(q, sel) {
    const out = [];
    runs.forEach((r) => {
      const p = probeAt(r, sel);
      if (!p || !p[q]) return;
      // Log axis: zero or negative values cannot be drawn and become gaps.
      const data = p[q].map((v, k) => ({ x: k + 1, y: isNum(v) && v > 0 ? v : null }));
      out.push({ label: r.label + ' @ step ' + p.step, data: data, borderColor: r.color,
        backgroundColor: r.color, borderWidth: 1.5, pointRadius: 3,
        borderDash: r.diverged ? [3, 3] : undefined });
    });
    return out;
  }
  function fillSelect(sel, items) {
    sel.innerHTML = '';
    items.forEach(([value, text]) => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      sel.appendChild(o);
    });
  }
  function makeProfileChart(n, quantities, title, yTitle) {
    const qSel = document.getElementById('c' + n + '-q');
    const sSel = document.getElementById('c' + n + '-step');
    fillSelect(qSel, quantities);
    const steps = new Set();
    runs.forEach((r) => r.probes.forEach((p) => steps.add(p.step)));
    const stepItems = [['last', 'last probed step'], ['first', 'first probed step (0)']];
    [...steps].sort((a, b) => a - b).forEach((s) => stepItems.push([String(s), 'step ' + s]));
    fillSelect(sSel, stepItems);
    const opts = baseOptions(title(qSel.value, sSel.value), 'block index l (1 = bottom)',
      yTitle(qSel.value), true);
    opts.scales.x.ticks = { precision: 0 };
    opts.scales.x.min = 1;
    const chart = new Chart(document.getElementById('chart-' + n), {
      type: 'line', data: { datasets: profileDatasets(qSel.value, sSel.value) }, options: opts,
      plugins: [whiteBackground] });
    if (!runs.some((r) => r.probes.length))
      setEmpty('c' + n + '-empty', 'No run has diagnostics.jsonl.');
    chart.select = (q, s) => {
      if (q !== undefined) qSel.value = q;
      if (s !== undefined) sSel.value = s;
      chart.data.datasets = profileDatasets(qSel.value, sSel.value);
      chart.options.plugins.title.text = title(qSel.value, sSel.value);
      chart.options.scales.y.title.text = yTitle(qSel.value);
      chart.update();
    };
    qSel.addEventListener('change', () => chart.select());
    sSel.addEventListener('change', () => chart.select());
    return chart;
  }
  const stepText = (s) => (s === 'last' ? 'last probed step' : s === 'first' ? 'first probed step' :
    'step ' + s);

  // ---- 4. final loss against depth
  function depthData(metric) {
    const distinct = (f) => new Set(runs.map((r) => r[f])).size > 1;
    const byNorm = distinct('norm');
    const byDt = distinct('dt');
    const groupName = (r) => [r.placement || '(placement?)', byNorm ? r.norm : null,
      byDt ? 'dt=' + r.dt : null].filter((x) => x).join(' / ');
    // group -> depth -> lr -> runs
    const groups = new Map();
    const diverged = [];
    const unplotted = [];
    runs.forEach((r) => {
      if (r.diverged) { diverged.push(r); return; }
      if (!isNum(r[metric]) || !r.n_layers) { unplotted.push(r); return; }
      const g = groupName(r);
      if (!groups.has(g)) groups.set(g, new Map());
      const depths = groups.get(g);
      if (!depths.has(r.n_layers)) depths.set(r.n_layers, new Map());
      const lrs = depths.get(r.n_layers);
      if (!lrs.has(r.lr)) lrs.set(r.lr, []);
      lrs.get(r.lr).push(r);
    });
    const datasets = [];
    let lo = Infinity, hi = -Infinity;
    [...groups.keys()].sort().forEach((g, gi) => {
      const pts = [];
      [...groups.get(g).entries()].sort((a, b) => a[0] - b[0]).forEach(([depth, lrs]) => {
        let best = null;
        lrs.forEach((rs, lr) => {
          const mean = rs.reduce((s, r) => s + r[metric], 0) / rs.length;
          if (!best || mean < best.y)
            best = { x: depth, y: mean, lr: lr, runs: rs.map((r) => r.name) };
        });
        lo = Math.min(lo, best.y);
        hi = Math.max(hi, best.y);
        pts.push(best);
      });
      // No red lines: red is the diverged marker here.
      const c = GROUP_PALETTE[gi % GROUP_PALETTE.length];
      datasets.push({ label: g, data: pts, borderColor: c, backgroundColor: c,
        borderWidth: 2, pointRadius: 4 });
    });
    if (!isFinite(hi)) { lo = 0; hi = 1; }
    const top = hi + Math.max(0.08 * (hi - lo), 0.05 * Math.abs(hi), 0.05);
    const crosses = diverged.filter((r) => r.n_layers).map((r) => ({ x: r.n_layers, y: top,
      runs: [r.name], status: r.status }));
    if (crosses.length)
      datasets.push({ label: 'diverged', data: crosses, showLine: false, pointStyle: 'crossRot',
        pointRadius: 9, pointHoverRadius: 11, borderColor: '#e00000', backgroundColor: '#e00000',
        pointBorderWidth: 3, borderWidth: 3 });
    return { datasets: datasets, top: top, lo: lo, diverged: diverged, unplotted: unplotted };
  }
  function makeDepthChart() {
    const sel = document.getElementById('c4-metric');
    const title = (m) => (m === 'final_loss' ? 'Final training loss' : 'Final validation loss') +
      ' vs depth';
    const opts = baseOptions(title(sel.value), 'depth (n_layers)', sel.value === 'final_loss' ?
      'final training loss' : 'final validation loss', false);
    opts.plugins.legend.position = 'top';
    opts.interaction = { mode: 'nearest', intersect: true };
    opts.scales.x.ticks = { precision: 0 };
    opts.plugins.tooltip = { callbacks: { label: (ctx) => {
      const p = ctx.raw;
      if (p.status) return 'diverged: ' + p.runs.join(', ') + ' (' + p.status + ')';
      return ctx.dataset.label + ': ' + fmt(p.y) + ' (lr ' + p.lr + '; ' + p.runs.join(', ') + ')';
    } } };
    const chart = new Chart(document.getElementById('chart-4'), {
      type: 'line', data: { datasets: [] }, options: opts, plugins: [whiteBackground] });
    const apply = () => {
      const dd = depthData(sel.value);
      chart.data.datasets = dd.datasets;
      chart.options.plugins.title.text = title(sel.value);
      chart.options.scales.y.title.text = sel.value === 'final_loss' ? 'final training loss' :
        'final validation loss';
      chart.options.scales.y.max = dd.top + 0.04 * Math.max(dd.top - dd.lo, 0.05);
      // With one depth only, keep the point off the frame.
      // Keep the end points (and crosses) off the frame.
      const xs = dd.datasets.flatMap((d) => d.data.map((p) => p.x));
      const xmin = Math.min(...xs), xmax = Math.max(...xs);
      const pad = Math.max(1, Math.round(0.04 * (xmax - xmin)));
      chart.options.scales.x.min = xs.length ? Math.max(0, xmin - pad) : undefined;
      chart.options.scales.x.max = xs.length ? xmax + pad : undefined;
      chart.update();
      const notes = document.getElementById('c4-notes');
      notes.textContent = '';
      const line = (label, rs, cls) => {
        if (!rs.length) return;
        const p = document.createElement('div');
        const b = document.createElement('b');
        b.textContent = label;
        if (cls) b.style.color = '#c00';
        p.appendChild(b);
        p.appendChild(document.createTextNode(' ' + rs.map((r) => r.label + ' — ' + r.status +
          (r.n_layers ? '' : ' (depth unknown, not drawn)')).join('; ')));
        notes.appendChild(p);
      };
      line('Diverged (red ×):', dd.diverged, true);
      line('Not drawn (no ' + (sel.value === 'final_loss' ? 'training' : 'validation') +
        ' loss or depth):', dd.unplotted, false);
    };
    sel.addEventListener('change', apply);
    apply();
    return chart;
  }

  // ---- 5. summary table
  function makeTable() {
    const cols = [
      ['run', (r) => r.name, false], ['placement', (r) => r.placement, false],
      ['norm', (r) => r.norm, false], ['L', (r) => r.n_layers || null, true],
      ['dt', (r) => r.dt, false], ['lr', (r) => (r.lr === '' ? null : Number(r.lr)), true],
      ['seed', (r) => (r.seed === '' ? null : Number(r.seed)), true],
      ['status', (r) => r.status, false], ['final train loss', (r) => r.final_loss, true],
      ['final valid loss', (r) => r.final_valid_loss, true], ['steps', (r) => r.steps, true]];
    const table = document.getElementById('summary');
    const head = document.createElement('tr');
    const body = table.tBodies[0];
    let order = runs.map((r, i) => i);
    let sortCol = -1, sortDir = 1;
    const render = () => {
      body.innerHTML = '';
      order.forEach((i) => {
        const r = runs[i];
        const tr = document.createElement('tr');
        if (r.diverged) tr.className = 'diverged';
        tr.title = r.dir;
        cols.forEach(([name, get, numeric]) => {
          const td = document.createElement('td');
          const v = get(r);
          if (name === 'final train loss' || name === 'final valid loss') td.textContent = fmt(v);
          else if (name === 'lr') td.textContent = r.lr;
          else if (name === 'seed') td.textContent = r.seed;
          else td.textContent = v === null || v === undefined ? '' : String(v);
          if (numeric) td.className = 'num';
          if (name === 'status') td.className = 'status';
          if (name === 'run') {
            const dot = document.createElement('span');
            dot.textContent = '\u25cf ';
            dot.style.color = r.color;
            td.prepend(dot);
          }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    };
    cols.forEach(([name, get, numeric], c) => {
      const th = document.createElement('th');
      th.textContent = name;
      th.addEventListener('click', () => {
        sortDir = sortCol === c ? -sortDir : 1;
        sortCol = c;
        const key = (i) => get(runs[i]);
        order.sort((a, b) => {
          const x = key(a), y = key(b);
          const xn = x === null || x === undefined || x === '', yn = y === null || y === undefined || y === '';
          if (xn || yn) return xn === yn ? a - b : xn ? 1 : -1;  // blanks last
          if (numeric) return (x - y) * sortDir || a - b;
          return String(x).localeCompare(String(y), undefined, { numeric: true }) * sortDir || a - b;
        });
        render();
      });
      head.appendChild(th);
    });
    table.tHead.appendChild(head);
    render();

    const notes = document.getElementById('notes');
    const add = (text) => {
      const p = document.createElement('p');
      p.className = 'caption';
      p.textContent = text;
      notes.appendChild(p);
    };
    const noMetrics = runs.filter((r) => !r.train.length && !r.valid.length).map((r) => r.name);
    const noDiag = runs.filter((r) => !r.probes.length).map((r) => r.name);
    const noSummary = runs.filter((r) => !r.has_summary).map((r) => r.name);
    if (noMetrics.length) add('No metrics.jsonl: ' + noMetrics.join(', '));
    if (noDiag.length) add('No diagnostics.jsonl: ' + noDiag.join(', '));
    if (noSummary.length) add('No summary.json (unfinished or killed): ' + noSummary.join(', '));
    const warnings = runs.flatMap((r) => r.warnings);
    if (warnings.length) {
      const det = document.createElement('details');
      const sum = document.createElement('summary');
      sum.textContent = warnings.length + ' warning(s) while reading';
      det.appendChild(sum);
      const pre = document.createElement('pre');
      pre.textContent = warnings.join('\n');
      det.appendChild(pre);
      notes.appendChild(det);
    }
  }

  // ---- build everything; each chart is independent so one failure does not hide the rest
  const charts = {};
  let ready = 0;
  const errors = [];
  const attempt = (name, f) => {
    try {
      charts[name] = f();
      if (charts[name]) ready++;
    } catch (e) {
      errors.push(name + ': ' + (e && e.message ? e.message : String(e)));
    }
  };
  attempt('loss', makeLossChart);
  const gradQ = [['grad_input', 'grad_input (block input)'], ['grad_attn_out',
    'grad_attn_out'], ['grad_mlp_out', 'grad_mlp_out']];
  attempt('grad', () => makeProfileChart(2, gradQ,
    (q, s) => '||dL/d ' + q.replace('grad_', '') + '|| per block (' + stepText(s) + ')',
    (q) => q + ' (log)'));
  const hidQ = [['input.rms', 'input.rms'], ['input.var', 'input.var'],
    ['input.batch_var', 'input.batch_var'], ['input.mean_abs', 'input.mean_abs'],
    ['attn_out.rms', 'attn_out.rms'], ['mlp_out.rms', 'mlp_out.rms']];
  attempt('hidden', () => makeProfileChart(3, hidQ,
    (q, s) => q + ' of the hidden state per block (' + stepText(s) + ')', (q) => q + ' (log)'));
  attempt('depth', makeDepthChart);
  try { makeTable(); } catch (e) { errors.push('table: ' + e.message); }

  if (PNG && !errors.length) {
    const out = document.getElementById('png-out');
    const snap = (name, chart) => {
      const pre = document.createElement('pre');
      pre.className = 'png-out';
      pre.setAttribute('data-name', name);
      pre.textContent = chart.toBase64Image('image/png', 1);
      out.appendChild(pre);
    };
    try {
      snap('chart-1-loss', charts.loss);
      snap('chart-2-grad-profile', charts.grad);
      charts.grad.select(undefined, 'first');
      snap('chart-2-grad-profile-step0', charts.grad);
      snap('chart-3-hidden-rms', charts.hidden);
      charts.hidden.select(undefined, 'first');
      snap('chart-3-hidden-rms-step0', charts.hidden);
      snap('chart-4-loss-vs-depth', charts.depth);
    } catch (e) {
      errors.push('png: ' + e.message);
    }
  }
  if (errors.length) document.body.setAttribute('data-error', errors.join(' | '));
  document.body.setAttribute('data-charts-ready', String(ready));
})();
