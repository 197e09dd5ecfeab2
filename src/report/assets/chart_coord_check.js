// Figure 10: the coordinate check of `normlab sanity-check` (docs/sanity-check.md), drawn as
// microsoft/mup's coord check (activation size against width at a few training steps) and
// CompleteP's over depth (Dey et al. 2025): for each check, the per-block activation size and the
// per-block update size against the depth L, one line per trial step (1, 5, 20, 50). A design whose
// lines stay flat as L grows has activations and updates that do not depend on the depth. The
// data is the checks' `coord_check` (report_data_json's "checks"); absent without checks.
(function () {
  'use strict';
  const checks = NL.checks;
  // [key, text of the selector, axis title, which panel]. A block's value is averaged over the
  // blocks of the stack (and over its sublayers for sublayer_out_rms); top_rms is the stack's
  // output.
  const QUANTITIES = [
    ['input_rms', 'rms of a block\'s input (mean over blocks)', 'block input rms', 'activation'],
    ['sublayer_out_rms', 'rms of a sublayer\'s output F(u) (mean over blocks)',
      'sublayer output rms', 'activation'],
    ['top_rms', 'rms of the stack\'s output x_L', 'rms of x_L', 'activation'],
    ['update_ratio', '|dW|/|W| of a block per step (mean over blocks)', 'block |dW|/|W|',
      'update'],
    ['grad_rms', 'gradient rms of a block\'s parameters (mean over blocks)', 'block gradient rms',
      'update']];
  const STEP_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];

  const mean = (xs) => {
    const v = xs.filter((x) => NL.isNum(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  // The value of quantity q at one coordinate-check step of one depth (null when unknown).
  NL.coordValue = (row, q) => {
    if (q === 'top_rms') return NL.isNum(row.top_rms) ? row.top_rms : null;
    if (q === 'sublayer_out_rms') return mean(row.blocks.flatMap((b) => b.sublayer_out_rms || []));
    return mean(row.blocks.map((b) => b[q]));
  };
  // Curves of one check: step -> [[L, value]] over its depths, in depth order.
  const curves = (check, q) => {
    const byStep = new Map();
    [...check.depths].sort((a, b) => a.depth - b.depth).forEach((d) => d.coord_check.forEach((row) => {
      if (!byStep.has(row.step)) byStep.set(row.step, []);
      const v = NL.coordValue(row, q);
      byStep.get(row.step).push([d.depth, v !== null && v > 0 ? v : null]);
    }));
    return [...byStep.entries()].sort((a, b) => a[0] - b[0]);
  };
  const checkTitle = (c) => [c.placement, c.norm && c.norm !== 'layernorm' ? c.norm : '',
    c.dt && c.dt !== '1' ? 'dt ' + c.dt : '', c.lr ? 'lr ' + c.lr : '',
    c.d_model ? 'd ' + c.d_model : ''].filter((s) => s).join(', ') || c.name;

  NL.register(10, 'coord', () => {
    const opt = (kind) => QUANTITIES.filter((q) => q[3] === kind)
      .map(([k, t]) => '<option value="' + k + '">' + t + '</option>').join('');
    const section = NL.section(10, 'Coordinate check over depth (sanity-check)',
      '<label>activation <select id="c10-act">' + opt('activation') + '</select></label>' +
      '<label>update <select id="c10-upd">' + opt('update') + '</select></label>',
      'For each sanity check (normlab sanity-check --json_out), the size of the activations (left) ' +
      'and of the updates (right) per block against the depth L, one line per step of the ' +
      'check\'s trial, on log axes: microsoft/mup\'s coordinate check, over depth as in ' +
      'CompleteP. Lines that stay flat as L grows mark a design whose activations and updates ' +
      'do not depend on the depth; lines that climb with the step number mark growth during ' +
      'training.');
    const actSel = document.getElementById('c10-act');
    const updSel = document.getElementById('c10-upd');
    // Two panels per check, activation then update, side by side.
    const canvases = NL.panelCanvases(section, 10, 2 * checks.length);
    section.querySelector('.panels').classList.add('pairs');
    const textOf = (q) => QUANTITIES.find((x) => x[0] === q)[1];
    const axisOf = (q) => QUANTITIES.find((x) => x[0] === q)[2];
    const charts = canvases.map((canvas, k) => {
      const check = checks[k >> 1];
      const sel = k % 2 ? updSel : actSel;
      const x = NL.logAxis('depth L (n_layers)');
      const opts = NL.baseOptions('', x, NL.logAxis(''));
      opts.plugins.legend.position = 'bottom';
      opts.plugins.title.display = true;
      opts.plugins.title.font = { size: 13 };
      opts.interaction = { mode: 'nearest', intersect: false };
      const chart = new Chart(canvas, { type: 'line', data: { datasets: [] }, options: opts,
        plugins: [NL.whiteBackground] });
      chart.$check = check;
      chart.$select = sel;
      return chart;
    });
    const refresh = () => {
      charts.forEach((c) => {
        const q = c.$select.value;
        c.$quantity = q;
        c.options.plugins.title.text = checkTitle(c.$check) + ': ' + (c.$select === actSel ?
          'activation' : 'update');
        c.options.scales.y.title.text = axisOf(q) + ' (log)';
        c.data.datasets = curves(c.$check, q).map(([step, pts], k) => ({
          label: 'step ' + step, fullName: c.$check.path + ': ' + textOf(q) + ' at step ' + step,
          data: pts.map(([L, v]) => ({ x: L, y: v })),
          borderColor: STEP_COLOURS[k % STEP_COLOURS.length],
          backgroundColor: STEP_COLOURS[k % STEP_COLOURS.length],
          borderWidth: 1.5, pointRadius: 3, spanGaps: false }));
      });
      // The activation panels share their axes, and so do the update panels.
      NL.shareAxes(charts.filter((c) => c.$select === actSel));
      NL.shareAxes(charts.filter((c) => c.$select === updSel));
    };
    actSel.addEventListener('change', refresh);
    updSel.addEventListener('change', refresh);
    refresh();
    return { charts: charts, pngs: () => [['chart-10-coord-check', NL.figurePng(charts)]] };
  }, 'checks');
})();
