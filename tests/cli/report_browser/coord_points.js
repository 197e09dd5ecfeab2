// Injected before </body> (inject.py IN OUT coord_points.js) into a report page of sanity checks:
// once the page has loaded, writes what the coordinate-check figure drew as JSON into a <pre>
// element with id nl-coord (read by check_coord_points.py after `chromium --dump-dom`): per panel
// its canvas id, check path, quantity and datasets (label and points), and the page's figure count
// and error.
(function () {
  'use strict';
  window.addEventListener('load', () => {
    const fig = window.NL && NL.drawn && NL.drawn.coord;
    const out = { ready: document.body.getAttribute('data-charts-ready'),
      error: document.body.getAttribute('data-error'), panels: null };
    if (fig)
      out.panels = fig.charts.map((c) => ({ id: c.canvas.id, check: c.$check.path,
        quantity: c.$quantity, title: c.options.plugins.title.text,
        datasets: c.data.datasets.map((d) => ({ label: d.label,
          points: d.data.map((p) => [p.x, p.y]) })),
        drawn: c.data.datasets.reduce((n, d, k) =>
          n + c.getDatasetMeta(k).data.filter((el) => isFinite(el.x) && isFinite(el.y)).length, 0) }));
    const pre = document.createElement('pre');
    pre.id = 'nl-coord';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
})();
