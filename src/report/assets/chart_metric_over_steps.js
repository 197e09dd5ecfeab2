// Figures 5 and 6: a training-line field of metrics.jsonl against step, per run: the learning
// rate the schedule gave (warmup, decay) and the global gradient norm before clipping, on a log
// axis (spikes and slow growth before a divergence show there first).
(function () {
  'use strict';
  const runs = NL.runs;

  // spec: {n, name, key (run field holding [[step, value]]), heading, caption, title, yTitle, log}
  function metricFigure(spec) {
    const drawn = runs.map((r, i) => i).filter((i) => runs[i][spec.key].length);
    const section = NL.section(spec.n, spec.heading, '', spec.caption);
    const fig = NL.runCurvesFigure({
      n: spec.n, section: section, runs: drawn,
      title: (g) => (g ? g : spec.title),
      axes: () => {
        const y = spec.log ? NL.logAxis(spec.yTitle) : NL.linearAxis(spec.yTitle);
        if (!spec.log) y.beginAtZero = true;  // warmup starts from 0
        return { x: NL.linearAxis('step'), y: y };
      },
      datasets: (i, label) => {
        const c = runs[i][spec.key];
        return [NL.curveDataset(i, label,
          spec.log ? c.map((p) => [p[0], p[1] > 0 ? p[1] : null]) : c)];
      },
    });
    if (!drawn.length) NL.setEmpty(spec.n, 'No run logged "' + spec.field + '" in metrics.jsonl.');
    return { charts: fig.charts, pngs: () => [[spec.name, NL.figurePng(fig.charts)]] };
  }

  NL.register(5, 'lr', () => metricFigure({
    n: 5, name: 'chart-5-lr', key: 'lr_curve', field: 'lr', heading: 'Learning rate over time',
    title: 'Learning rate vs step', yTitle: 'learning rate', log: false,
    caption: 'The learning rate of each logged training step (metrics.jsonl "lr"), as the ' +
      'schedule set it: linear warmup, then the decay of `schedule` (inverse_sqrt, cosine or ' +
      'constant).',
  }));
  NL.register(6, 'grad_norm', () => metricFigure({
    n: 6, name: 'chart-6-grad-norm', key: 'grad_norm', field: 'grad_norm',
    heading: 'Gradient norm over time', title: 'Global gradient norm vs step',
    yTitle: '||g||_2 before clipping (log)', log: true,
    caption: 'The L2 norm of the whole model\'s gradient of each logged step (metrics.jsonl ' +
      '"grad_norm"), after accumulation and before clipping, on a log axis. A run that diverged ' +
      'ends in a gap (non-finite norm).',
  }));
})();
