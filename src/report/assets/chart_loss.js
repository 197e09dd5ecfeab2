// Figure 1: training loss (solid) and validation loss (dashed) against step, per run, in
// nats/token. Diverging runs reach losses far above the rest, so by default the y axis stops at
// the largest first recorded loss (about ln V at initialisation): above it nothing is informative.
(function () {
  'use strict';
  const runs = NL.runs;

  function initialLossCap() {
    let cap = -Infinity;
    runs.forEach((r) => {
      for (const c of [r.train, r.valid]) {
        const first = c.find((p) => NL.isNum(p[1]));
        if (first) cap = Math.max(cap, first[1]);
      }
    });
    if (!isFinite(cap)) return undefined;
    // Up to the next multiple of half a unit of the loss's leading digit: 7.98 -> 8, 0.37 -> 0.4.
    const step = 0.5 * Math.pow(10, Math.floor(Math.log10(cap * 1.05)));
    return Number((Math.ceil(cap * 1.05 / step) * step).toPrecision(3));
  }

  NL.register(1, 'loss', () => {
    const section = NL.section(1, 'Loss curves',
      '<label><input type="checkbox" id="c1-log"> log y</label>' +
      '<label><input type="checkbox" id="c1-clip" checked> clip y at the initial loss</label>',
      'Training loss against step for every run (solid); validation loss dashed, same colour. ' +
      'Loss is the mean cross-entropy per target token in nats (ln, not bits). Click a legend ' +
      'entry to hide both curves of that run; hover it for the run\'s directory and config.');
    const logBox = document.getElementById('c1-log');
    const clipBox = document.getElementById('c1-clip');
    const cap = initialLossCap();
    const yTitle = 'loss (nats/token)';
    const fig = NL.runCurvesFigure({
      n: 1, section: section, runs: runs.map((r, i) => i),
      title: (g) => (g ? g : 'Loss vs step (solid: train, dashed: validation)'),
      axes: () => ({ x: NL.linearAxis('step'),
        y: logBox.checked ? NL.logAxis(yTitle) : NL.linearAxis(yTitle) }),
      fixed: () => ({ y: { max: clipBox.checked ? cap : undefined } }),
      datasets: (i, label) => {
        const pos = (c) => (logBox.checked ? c.map((p) => [p[0], p[1] > 0 ? p[1] : null]) : c);
        return [NL.curveDataset(i, label, pos(runs[i].train), { kind: 'train' }),
          NL.curveDataset(i, label + ' (valid)', pos(runs[i].valid),
            { kind: 'valid', borderDash: [6, 4], pointRadius: 2 })];
      },
      legendFilter: (item, data) => data.datasets[item.datasetIndex].kind === 'train',
      legendOnClick: (e, item, legend) => {
        const ch = legend.chart;
        const run = ch.data.datasets[item.datasetIndex].run;
        const visible = ch.isDatasetVisible(item.datasetIndex);
        ch.data.datasets.forEach((d, k) => {
          if (d.run === run) ch.setDatasetVisibility(k, !visible);
        });
        ch.update();
      },
    });
    if (!runs.some((r) => r.train.length || r.valid.length))
      NL.setEmpty(1, 'No run has metrics.jsonl.');
    logBox.addEventListener('change', fig.refresh);
    clipBox.addEventListener('change', fig.refresh);
    return { charts: fig.charts, pngs: () => [['chart-1-loss', NL.figurePng(fig.charts)]] };
  });
})();
