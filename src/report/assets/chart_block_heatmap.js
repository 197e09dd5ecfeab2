// Figures 7 and 8: per-block heat maps over steps, one panel per run, from the "params" of each
// diagnostics.jsonl record (probed steps only): the update ratio ||dW|| / ||W|| of each block's
// parameters and their gradient norm. Deep-model studies find that update-size spikes in the lower
// blocks come before loss spikes. Colour is log10 of the value on one scale shared by the panels
// (viridis, a colour bar on the right of each panel); grey cells have no value (step 0 has no
// update yet, and runs written before "weight_norm" existed have no update ratio).
(function () {
  'use strict';
  const runs = NL.runs;
  const EMPTY = '#e6e6e6';
  const viridis = NL.viridis;

  // The cells of one run: probes sorted by step, each cell spanning half-way to its neighbours
  // (the first and last end at their own step, so the step axis starts and ends with the run).
  function cellsOf(r, q) {
    const probes = r.probes.filter((p) => p[q] && p[q].length).sort((a, b) => a.step - b.step);
    const s = probes.map((p) => p.step);
    const edges = [];
    for (let k = 0; k <= s.length; k++) {
      if (s.length === 1) edges.push(s[0] + (k ? 0.5 : -0.5));
      else if (k === 0) edges.push(s[0]);
      else if (k === s.length) edges.push(s[k - 1]);
      else edges.push((s[k - 1] + s[k]) / 2);
    }
    const cells = [];
    probes.forEach((p, k) => p[q].forEach((v, b) => cells.push({ x0: edges[k], x1: edges[k + 1],
      step: p.step, block: b + 1, v: NL.isNum(v) && v > 0 ? v : null })));
    return cells;
  }

  const COLOUR_BAR_SPACE = 84;  // px right of the plot area: bar, tick labels, title
  const heatPlugin = {
    id: 'blockHeat',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea: a, scales } = chart;
      const h = chart.$heat;
      ctx.save();
      ctx.beginPath();
      ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top);
      ctx.clip();
      let drawn = 0;
      h.cells.forEach((c) => {
        const x0 = scales.x.getPixelForValue(c.x0), x1 = scales.x.getPixelForValue(c.x1);
        const y0 = scales.y.getPixelForValue(c.block + 0.5);
        const y1 = scales.y.getPixelForValue(c.block - 0.5);
        ctx.fillStyle = c.v === null ? EMPTY : viridis(h.t(c.v));
        // Half a pixel of overlap hides the seams between cells.
        ctx.fillRect(x0, y0, x1 - x0 + 0.5, y1 - y0 + 0.5);
        if (c.v !== null) drawn++;
      });
      ctx.restore();
      chart.$heatCells = drawn;
    },
    afterDraw(chart) {
      const { ctx, chartArea: a } = chart;
      const h = chart.$heat;
      const x = a.right + 12, w = 12, top = a.top, bottom = a.bottom;
      const grad = ctx.createLinearGradient(0, bottom, 0, top);
      for (let k = 0; k <= 20; k++) grad.addColorStop(k / 20, viridis(k / 20));
      ctx.save();
      ctx.fillStyle = grad;
      ctx.fillRect(x, top, w, bottom - top);
      ctx.strokeStyle = '#666';
      ctx.lineWidth = 1;
      ctx.strokeRect(x, top, w, bottom - top);
      ctx.fillStyle = '#444';
      ctx.font = '11px sans-serif';
      ctx.textBaseline = 'middle';
      let right = x + w;
      NL.logTickValues(h.min, h.max).forEach((v) => {
        const y = bottom - h.t(v) * (bottom - top);
        ctx.beginPath();
        ctx.moveTo(x + w, y);
        ctx.lineTo(x + w + 4, y);
        ctx.stroke();
        const text = NL.fmtNum(v);
        ctx.fillText(text, x + w + 6, y);
        right = Math.max(right, x + w + 6 + ctx.measureText(text).width);
      });
      ctx.translate(chart.width - 8, (top + bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'center';
      ctx.fillText(h.label, 0, 0);
      ctx.restore();
      // For automated checks: the colour bar with its labels, in CSS pixels of the canvas.
      chart.$colourBar = { left: x, top: top - 6, right: Math.max(right, chart.width - 2),
        bottom: bottom + 6 };
    },
  };

  // spec: {n, name, q (probe key), heading, caption, label (colour-bar title)}
  function heatFigure(spec) {
    const drawn = runs.map((r, i) => i).filter((i) =>
      runs[i].probes.some((p) => p[spec.q] && p[spec.q].some((v) => NL.isNum(v) && v > 0)));
    const section = NL.section(spec.n, spec.heading, '', spec.caption);
    if (!drawn.length) {
      NL.setEmpty(spec.n, 'No run has per-parameter "' + spec.need + '" in diagnostics.jsonl.');
      return { charts: [], pngs: () => [] };
    }
    const cells = new Map(drawn.map((i) => [i, cellsOf(runs[i], spec.q)]));
    const values = [...cells.values()].flat().map((c) => c.v).filter((v) => v !== null);
    const lim = NL.logLimits(Math.min(...values), Math.max(...values));
    const lmin = Math.log10(lim.min), lspan = Math.log10(lim.max) - lmin;
    const t = (v) => (Math.log10(v) - lmin) / lspan;
    const all = [...cells.values()].flat();
    const xmin = Math.min(...all.map((c) => c.x0)), xmax = Math.max(...all.map((c) => c.x1));
    const labels = NL.shortLabels(drawn);
    // The step axis and the colour scale are shared; the block axis is each run's own depth.
    const canvases = NL.panelCanvases(section, spec.n, drawn.length, 'heat');
    const charts = drawn.map((i, k) => {
      const own = cells.get(i);
      const blocks = Math.max(...own.map((c) => c.block));
      const canvas = canvases[k];
      canvas.title = runs[i].fullName;
      const y = NL.linearAxis('block l (1 = bottom)');
      Object.assign(y, { min: 0.5, max: blocks + 0.5, grid: { display: false } });
      y.ticks = { stepSize: blocks <= 16 ? 1 : undefined, precision: 0,
        callback: (v) => (Number.isInteger(v) && v >= 1 ? String(v) : '') };
      const x = NL.linearAxis('step');
      Object.assign(x, { min: xmin, max: xmax, grid: { display: false } });
      const opts = NL.baseOptions(labels.get(i), x, y);
      opts.plugins.legend.display = false;
      opts.plugins.title.font = { size: 13 };
      opts.layout = { padding: { right: COLOUR_BAR_SPACE } };
      opts.plugins.tooltip.callbacks.title = () => runs[i].fullName;
      opts.plugins.tooltip.callbacks.label = (ctx) => 'block ' + ctx.raw.y + ', step ' +
        ctx.raw.x + ': ' + (ctx.raw.v === null ? 'no value' : NL.fmtNum(ctx.raw.v));
      const chart = new Chart(canvas, {
        type: 'scatter',
        data: { datasets: [{ label: spec.label, fullName: runs[i].fullName, run: i,
          data: own.map((c) => ({ x: c.step, y: c.block, v: c.v })), pointRadius: 0,
          pointHoverRadius: 0, pointHitRadius: 8 }] },
        options: opts,
        plugins: [{ id: 'heatData', beforeInit(ch) {
          ch.$heat = { cells: own, t: t, min: lim.min, max: lim.max, label: spec.label };
        } }, heatPlugin, NL.whiteBackground] });
      return chart;
    });
    return { charts: charts, pngs: () => [[spec.name, NL.figurePng(charts)]] };
  }

  NL.register(7, 'update_heatmap', () => heatFigure({
    n: 7, name: 'chart-7-update-ratio-heatmap', q: 'update_ratio', need: 'weight_norm',
    heading: 'Update ratio per block over steps', label: '||dW|| / ||W|| (log)',
    caption: 'For each block (rows, 1 = bottom) and probed step (columns, every diag_every ' +
      'steps): the update-to-weight ratio ||W_new - W_old|| / ||W_old|| of all the block\'s ' +
      'parameter tensors together, that step. Log colour scale shared by the panels; grey: no ' +
      'value (step 0 takes no step).',
  }));
  NL.register(8, 'grad_heatmap', () => heatFigure({
    n: 8, name: 'chart-8-grad-norm-heatmap', q: 'param_grad_norm', need: 'grad_norm',
    heading: 'Gradient norm per block over steps', label: '||dL/dW_l|| (log)',
    caption: 'For each block and probed step: the norm of the gradient of the loss with ' +
      'respect to all the block\'s parameters, sqrt(sum of the tensors\' squared gradient ' +
      'norms), before clipping. Log colour scale shared by the panels.',
  }));
})();
