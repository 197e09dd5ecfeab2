// Figure 9: which placements train at which learning rates, at each depth. One panel per depth
// (n_layers); rows are the run settings other than depth, lr and seed (placement, and norm, dt,
// rescale_init, scale_embedding, ... where they vary), columns the learning rates; a cell's colour
// and number are the mean final validation loss over its seeds (± half their range). A cell is
// marked diverged when a seed diverged (the trainer stopped it, or its final loss is above U + 0.5)
// and stalled when a seed ended above U - 0.3, with U the unigram loss of the training tokens
// (summary.json's unigram_loss): the rule of experiments/seeds/README.md and docs/sanity-check.md.
// Drawn only when the runs have more than one learning rate.
(function () {
  'use strict';
  const runs = NL.runs;
  // Config keys that may tell rows apart (besides the placement), shown where they vary.
  const ROW_KEYS = ['norm', 'dt', 'rescale_init', 'scale_embedding', 'init', 'd_model', 'steps',
    'warmup', 'clip_norm', 'schedule'];
  const STALL_MARGIN = 0.3, DIVERGE_MARGIN = 0.5;  // nats below / above the unigram loss
  const NO_RUN = '#f2f2f2', DIVERGED = '#c00000';

  function outcome(r) {
    const v = r.final_valid_loss, u = r.unigram_loss;
    if (r.diverged || !NL.isNum(v)) return 'diverged';
    if (!NL.isNum(u)) return 'unknown';
    if (v > u + DIVERGE_MARGIN) return 'diverged';
    return v > u - STALL_MARGIN ? 'stalled' : 'trains';
  }

  // A row label: the placement, then each varying key; a boolean shows as +key / -key where it
  // differs from the value most runs have.
  function rowLabeller(rs) {
    const cfg = (r) => r.config || {};
    const varying = ROW_KEYS.filter((k) => new Set(rs.map((r) => cfg(r)[k])).size > 1);
    const majority = {};
    varying.forEach((k) => {
      const n = new Map();
      rs.forEach((r) => n.set(cfg(r)[k], (n.get(cfg(r)[k]) || 0) + 1));
      majority[k] = [...n.entries()].sort((a, b) => b[1] - a[1])[0][0];
    });
    return (r) => [r.placement || '?'].concat(varying.map((k) => {
      const v = cfg(r)[k];
      if (v === 'true' || v === 'false')
        return v === majority[k] ? '' : (v === 'true' ? '+' : '-') + k;
      return k === 'dt' ? 'dt ' + v : k + ' ' + v;
    }).filter((s) => s)).join(' ');
  }

  const mapPlugin = {
    id: 'lrMap',
    beforeDatasetsDraw(chart) {
      const { ctx, scales } = chart;
      const m = chart.$map;
      ctx.save();
      m.cells.forEach((c) => {
        const x0 = scales.x.getPixelForValue(c.col - 0.5), x1 = scales.x.getPixelForValue(c.col + 0.5);
        const y0 = scales.y.getPixelForValue(c.row - 0.5), y1 = scales.y.getPixelForValue(c.row + 0.5);
        const w = x1 - x0, h = y1 - y0;
        const t = c.mean === null ? null : m.t(c.mean);
        ctx.fillStyle = t === null ? NO_RUN : NL.viridis(t);
        ctx.fillRect(x0 + 1, y0 + 1, w - 2, h - 2);
        if (c.mark === 'diverged') {
          ctx.strokeStyle = DIVERGED;
          ctx.lineWidth = 3;
          ctx.strokeRect(x0 + 2.5, y0 + 2.5, w - 5, h - 5);
        } else if (c.mark === 'stalled') {  // diagonal hatching
          ctx.save();
          ctx.beginPath();
          ctx.rect(x0 + 1, y0 + 1, w - 2, h - 2);
          ctx.clip();
          ctx.strokeStyle = 'rgba(255,255,255,0.55)';
          ctx.lineWidth = 2;
          for (let d = -h; d < w; d += 10) {
            ctx.beginPath();
            ctx.moveTo(x0 + d, y1);
            ctx.lineTo(x0 + d + h, y0);
            ctx.stroke();
          }
          ctx.restore();
        }
        const rgb = t === null ? [242, 242, 242] : NL.viridisRgb(t);
        const light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140;
        ctx.fillStyle = c.mark === 'diverged' ? DIVERGED : light ? '#111' : '#fff';
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        const size = Math.max(9, Math.min(14, h / 3.2));
        ctx.font = 'bold ' + size + 'px sans-serif';
        ctx.fillText(c.text, (x0 + x1) / 2, (y0 + y1) / 2 - (c.sub ? size * 0.6 : 0));
        if (c.sub) {
          ctx.font = size * 0.85 + 'px sans-serif';
          ctx.fillText(c.sub, (x0 + x1) / 2, (y0 + y1) / 2 + size * 0.65);
        }
      });
      ctx.restore();
      chart.$mapCells = m.cells.length;
    },
  };

  NL.register(9, 'lr_map', () => {
    const lrs = [...new Set(runs.map((r) => Number(r.lr)).filter((v) => v > 0))].sort((a, b) => a - b);
    if (lrs.length < 2) return null;  // no learning-rate axis: nothing to map
    const drawn = runs.filter((r) => r.n_layers && Number(r.lr) > 0);
    const rowOf = rowLabeller(drawn);
    // Rows by placement in the presets' order (post, pre, peri, b2t, ...: the papers' order, not
    // the alphabet's), then by label, so a variant (dt 0.1, +rescale_init) sits under its base.
    const rank = new Map();
    drawn.forEach((r) => {
      const i = NL.placements.indexOf(r.placement);
      rank.set(rowOf(r), i < 0 ? NL.placements.length : i);
    });
    const rows = [...rank.keys()].sort((a, b) => rank.get(a) - rank.get(b) ||
      a.localeCompare(b, undefined, { numeric: true }));
    const depths = [...new Set(drawn.map((r) => r.n_layers))].sort((a, b) => a - b);
    const section = NL.section(9, 'Final loss by placement, depth and learning rate', '',
      'One panel per depth; rows are the settings other than depth, learning rate and seed; ' +
      'each cell is the mean final validation loss (nats/token) of its seeds, ± half their ' +
      'range, with the seed count. Red frame: diverged (the trainer stopped it, or it ended ' +
      'more than 0.5 above the unigram loss U of the training tokens); hatched: stalled (ended ' +
      'less than 0.3 below U); light grey: no run. Colour scale shared by the panels ' +
      '(viridis, bright = low loss).');
    const cellsOf = (L) => {
      const out = [];
      rows.forEach((row, ri) => lrs.forEach((lr, ci) => {
        const rs = drawn.filter((r) => r.n_layers === L && rowOf(r) === row && Number(r.lr) === lr);
        const c = { row: ri, col: ci, mean: null, text: 'no run', sub: '', mark: '', runs: rs };
        if (rs.length) {
          const vs = rs.map((r) => r.final_valid_loss).filter((v) => NL.isNum(v));
          const kinds = rs.map(outcome);
          c.mark = kinds.includes('diverged') ? 'diverged' : kinds.includes('stalled') ? 'stalled' : '';
          if (vs.length) {
            c.mean = vs.reduce((s, v) => s + v, 0) / vs.length;
            c.text = c.mean.toFixed(2) + (vs.length > 1 ?
              ' ±' + ((Math.max(...vs) - Math.min(...vs)) / 2).toFixed(2) : '');
          } else c.text = 'diverged';
          const n = kinds.filter((k) => k === c.mark).length;
          c.sub = (c.mark ? (n < rs.length ? n + '/' + rs.length + ' ' : '') + c.mark + ', ' : '') +
            rs.length + (rs.length > 1 ? ' seeds' : ' seed');
          if (c.mark === 'diverged') c.mean = null;
        }
        out.push(c);
      }));
      return out;
    };
    const cells = new Map(depths.map((L) => [L, cellsOf(L)]));
    const means = [...cells.values()].flat().map((c) => c.mean).filter((v) => v !== null);
    const lo = means.length ? Math.min(...means) : 0, hi = means.length ? Math.max(...means) : 1;
    const t = (v) => (hi > lo ? 1 - (v - lo) / (hi - lo) : 0.5);
    const canvases = NL.panelCanvases(section, 9, depths.length, 'lrmap');
    const charts = depths.map((L, k) => {
      const own = cells.get(L);
      const x = NL.linearAxis('peak learning rate');
      Object.assign(x, { min: -0.5, max: lrs.length - 0.5, grid: { display: false } });
      // One tick at each column's and row's centre (the axes start half a cell before them).
      const centres = (n) => (axis) => { axis.ticks = [...Array(n).keys()].map((v) => ({ value: v })); };
      x.afterBuildTicks = centres(lrs.length);
      x.ticks = { autoSkip: false, callback: (v) => (lrs[v] !== undefined ? NL.fmtNum(lrs[v]) : '') };
      const y = { type: 'linear', reverse: true, min: -0.5, max: rows.length - 0.5,
        grid: { display: false }, title: { display: false }, afterBuildTicks: centres(rows.length),
        ticks: { autoSkip: false, font: { size: 12 },
          callback: (v) => (rows[v] !== undefined ? rows[v] : '') } };
      const opts = NL.baseOptions(L + ' blocks: final validation loss (nats/token)', x, y);
      opts.plugins.legend.display = false;
      opts.plugins.tooltip.callbacks.title = () => '';
      opts.plugins.tooltip.callbacks.label = (ctx) => {
        const c = own[ctx.dataIndex];
        return rows[c.row] + ', lr ' + NL.fmtNum(lrs[c.col]) + ': ' + (c.runs.length ?
          c.runs.map((r) => r.name + ' ' + NL.fmt(r.final_valid_loss, 3) + ' [' + outcome(r) +
            ']').join('; ') : 'no run');
      };
      // For automated checks: each cell's row, lr and mark ("trains" when unmarked).
      canvases[k].setAttribute('data-cells', own.map((c) => rows[c.row] + '@' +
        NL.fmtNum(lrs[c.col]) + '=' + (c.mark || (c.runs.length ? 'trains' : 'none'))).join(';'));
      return new Chart(canvases[k], {
        type: 'scatter',
        data: { datasets: [{ label: 'cells', data: own.map((c) => ({ x: c.col, y: c.row })),
          pointRadius: 0, pointHoverRadius: 0, pointHitRadius: 30 }] },
        options: opts,
        plugins: [{ id: 'lrMapData', beforeInit(ch) { ch.$map = { cells: own, t: t }; } },
          mapPlugin, NL.whiteBackground] });
    });
    return { charts: charts, pngs: () => [['chart-9-lr-map', NL.figurePng(charts)]] };
  });
})();
