// Figures 2 and 3: a per-block quantity from diagnostics.jsonl against block index, log y, at one
// probed step (a selector picks it): the gradient-norm profile (B2T paper, Takase et al.: in deep
// Post-LN stacks it decays towards the bottom blocks) and the hidden-state statistics (growth of
// the residual stream by placement and dt, Kan et al. 2025).
(function () {
  'use strict';
  const runs = NL.runs;

  function probeAt(r, sel) {
    if (!r.probes.length) return null;
    if (sel === 'last') return r.probes.reduce((a, b) => (b.step >= a.step ? b : a));
    if (sel === 'first') return r.probes.reduce((a, b) => (b.step < a.step ? b : a));
    const s = Number(sel);
    return r.probes.find((p) => p.step === s) || null;
  }
  const stepText = (s) => (s === 'last' ? 'last probed step' : s === 'first' ? 'first probed step' :
    'step ' + s);

  // spec: {n, name, heading, caption, quantities: [[key, text]], title(q, step), yTitle(q)}
  function profileFigure(spec) {
    const n = spec.n;
    const section = NL.section(n, spec.heading,
      '<label>quantity <select id="c' + n + '-q"></select></label>' +
      '<label>step <select id="c' + n + '-step"></select></label>', spec.caption);
    const qSel = document.getElementById('c' + n + '-q');
    const sSel = document.getElementById('c' + n + '-step');
    NL.fillSelect(qSel, spec.quantities);
    const steps = new Set();
    runs.forEach((r) => r.probes.forEach((p) => steps.add(p.step)));
    const stepItems = [['last', 'last probed step'], ['first', 'first probed step (0)']];
    [...steps].sort((a, b) => a - b).forEach((s) => stepItems.push([String(s), 'step ' + s]));
    NL.fillSelect(sSel, stepItems);
    const fig = NL.runCurvesFigure({
      n: n, section: section, runs: runs.map((r, i) => i).filter((i) => runs[i].probes.length),
      title: (g) => (g ? g + ': ' : '') + spec.title(qSel.value, stepText(sSel.value)),
      axes: () => {
        const x = NL.linearAxis('block index l (1 = bottom)');
        x.ticks = { precision: 0 };
        x.min = 1;
        return { x: x, y: NL.logAxis(spec.yTitle(qSel.value)) };
      },
      fixed: () => ({ x: { min: 1 } }),
      datasets: (i, label) => {
        const r = runs[i];
        const p = probeAt(r, sSel.value);
        if (!p || !p[qSel.value]) return [];
        // Log axis: zero or negative values cannot be drawn and become gaps.
        const curve = p[qSel.value].map((v, k) => [k + 1, NL.isNum(v) && v > 0 ? v : null]);
        // The step is in the title; a label names it only where the runs' steps differ.
        const steps = new Set(runs.map((rr) => probeAt(rr, sSel.value)).filter((pp) => pp)
          .map((pp) => pp.step));
        return [NL.curveDataset(i, steps.size > 1 ? label + ' @ ' + p.step : label, curve,
          { pointRadius: 3, borderDash: r.diverged ? [3, 3] : undefined })];
      },
    });
    if (!runs.some((r) => r.probes.length)) NL.setEmpty(n, 'No run has diagnostics.jsonl.');
    const select = (q, s) => {
      if (q !== undefined) qSel.value = q;
      if (s !== undefined) sSel.value = s;
      fig.refresh();
    };
    qSel.addEventListener('change', () => select());
    sSel.addEventListener('change', () => select());
    return {
      charts: fig.charts,
      pngs: () => {
        const last = NL.figurePng(fig.charts);
        select(undefined, 'first');
        const first = NL.figurePng(fig.charts);
        select(undefined, 'last');
        return [[spec.name, last], [spec.name + '-step0', first]];
      },
    };
  }

  NL.register(2, 'grad', () => profileFigure({
    n: 2, name: 'chart-2-grad-profile', heading: 'Gradient-norm profile over depth',
    caption: 'Frobenius norm of the loss gradient with respect to each block\'s input (or ' +
      'sublayer output, or the block\'s parameters), against block index (1 = bottom), on a log ' +
      'axis. This is the per-layer gradient-norm figure of the B2T paper (Takase et al.): in deep ' +
      'Post-LN stacks it decays towards the bottom blocks.',
    quantities: [['grad_input', 'grad_input (block input)'], ['grad_attn_out', 'grad_attn_out'],
      ['grad_mlp_out', 'grad_mlp_out'], ['param_grad_norm', 'param_grad_norm (block parameters)']],
    title: (q, s) => '||dL/d ' + (q === 'param_grad_norm' ? 'W_l' : q.replace('grad_', '')) +
      '|| per block (' + s + ')',
    yTitle: (q) => (q === 'param_grad_norm' ? '||dL/dW_l||' : q) + ' (Frobenius norm, log)',
  }));
  NL.register(3, 'hidden', () => profileFigure({
    n: 3, name: 'chart-3-hidden-rms', heading: 'Hidden-state statistics over depth',
    caption: 'Statistic of the hidden state entering each block, against block index, on a log ' +
      'axis: how the residual stream grows with depth for each placement and residual step dt ' +
      '(Kan et al. 2025).',
    quantities: [['input.rms', 'input.rms'], ['input.var', 'input.var'],
      ['input.batch_var', 'input.batch_var'], ['input.mean_abs', 'input.mean_abs'],
      ['attn_out.rms', 'attn_out.rms'], ['mlp_out.rms', 'mlp_out.rms']],
    title: (q, s) => q + ' of the hidden state per block (' + s + ')',
    yTitle: (q) => q + ' (log)',
  }));
})();
