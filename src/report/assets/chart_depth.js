// Figure 4: final loss against depth (n_layers), one line per placement (split further by norm or
// dt when those vary). A point is the best learning rate's seed-mean among the runs that finished
// without diverging; diverged runs are red crosses drawn above the curves and listed below.
(function () {
  'use strict';
  const runs = NL.runs;

  function depthData(metric) {
    const distinct = (f) => new Set(runs.map((r) => r[f])).size > 1;
    const byNorm = distinct('norm');
    const byDt = distinct('dt');
    const groupName = (r) => [r.placement || '(placement?)', byNorm ? r.norm : null,
      byDt ? 'dt' + r.dt : null].filter((x) => x).join(' ');
    // group -> depth -> lr -> runs
    const groups = new Map();
    const diverged = [];
    const unplotted = [];
    runs.forEach((r) => {
      if (r.diverged) { diverged.push(r); return; }
      if (!NL.isNum(r[metric]) || !r.n_layers) { unplotted.push(r); return; }
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
      const c = NL.GROUP_PALETTE[gi % NL.GROUP_PALETTE.length];
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

  NL.register(4, 'depth', () => {
    const section = NL.section(4, 'Final loss against depth',
      '<label>metric <select id="c4-metric">' +
      '<option value="final_valid_loss">final validation loss</option>' +
      '<option value="final_loss">final training loss</option></select></label>',
      'One line per placement (split further by norm or dt when those vary). Each point is the ' +
      'best learning rate\'s seed-mean among runs that finished without diverging; diverged runs ' +
      'are red crosses drawn above the curves.');
    const notesEl = document.createElement('p');
    notesEl.className = 'notes';
    notesEl.id = 'c4-notes';
    section.appendChild(notesEl);
    const sel = document.getElementById('c4-metric');
    const yTitle = (m) => (m === 'final_loss' ? 'final training loss' : 'final validation loss') +
      ' (nats/token)';
    const title = (m) => (m === 'final_loss' ? 'Final training loss' : 'Final validation loss') +
      ' vs depth';
    const x = NL.linearAxis('depth (n_layers)');
    x.ticks.precision = 0;
    const opts = NL.baseOptions(title(sel.value), x, NL.linearAxis(yTitle(sel.value)));
    opts.plugins.legend.position = 'top';
    opts.interaction = { mode: 'nearest', intersect: true };
    opts.plugins.tooltip = { callbacks: { label: (ctx) => {
      const p = ctx.raw;
      if (p.status) return 'diverged: ' + p.runs.join(', ') + ' (' + p.status + ')';
      return ctx.dataset.label + ': ' + NL.fmt(p.y) + ' nats/token (lr ' + p.lr + '; ' +
        p.runs.join(', ') + ')';
    } } };
    const chart = new Chart(NL.panelCanvases(section, 4, 1)[0], {
      type: 'line', data: { datasets: [] }, options: opts, plugins: [NL.whiteBackground] });
    const apply = () => {
      const dd = depthData(sel.value);
      chart.data.datasets = dd.datasets;
      chart.options.plugins.title.text = title(sel.value);
      chart.options.scales.y.title.text = yTitle(sel.value);
      chart.options.scales.y.max = dd.top + 0.04 * Math.max(dd.top - dd.lo, 0.05);
      // Keep the end points (and crosses) off the frame.
      const xs = dd.datasets.flatMap((d) => d.data.map((p) => p.x));
      const xmin = Math.min(...xs), xmax = Math.max(...xs);
      const pad = Math.max(1, Math.round(0.04 * (xmax - xmin)));
      chart.options.scales.x.min = xs.length ? Math.max(0, xmin - pad) : undefined;
      chart.options.scales.x.max = xs.length ? xmax + pad : undefined;
      chart.update();
      notesEl.textContent = '';
      const line = (label, rs, cls) => {
        if (!rs.length) return;
        const p = document.createElement('div');
        const b = document.createElement('b');
        b.textContent = label;
        if (cls) b.style.color = '#c00';
        p.appendChild(b);
        p.appendChild(document.createTextNode(' ' + rs.map((r) => r.label + ' — ' + r.status +
          (r.n_layers ? '' : ' (depth unknown, not drawn)')).join('; ')));
        notesEl.appendChild(p);
      };
      line('Diverged (red ×):', dd.diverged, true);
      line('Not drawn (no ' + (sel.value === 'final_loss' ? 'training' : 'validation') +
        ' loss or depth):', dd.unplotted, false);
    };
    sel.addEventListener('change', apply);
    apply();
    return { charts: [chart], pngs: () => [['chart-4-loss-vs-depth', chart.toBase64Image('image/png', 1)]] };
  });
})();
