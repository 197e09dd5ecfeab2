// Injected before </body> by inject.py, so it runs after the report's own scripts. Once the page
// has loaded and settled it measures every Chart.js chart and writes the result as JSON into
// a <pre> element with id nl-check (read by check_dom.py after `chromium --dump-dom`):
//   console: what capture_console.js recorded;
//   charts: per canvas its id, section, type, data elements, non-white pixels, the box of the
//     canvas and of its section, the legend items (text, full name, the tooltip hovering it shows,
//     hit box, measured text width),
//     the heat map's colour bar box, and each axis's type, limits and tick labels.
(function () {
  'use strict';
  function measure() {
    const out = { console: window.__nlConsole || [], charts: [],
      ready: document.body.getAttribute('data-charts-ready') };
    const rect = (el) => {
      const b = el.getBoundingClientRect();
      return { left: b.left, top: b.top, right: b.right, bottom: b.bottom };
    };
    Object.values(Chart.instances).forEach((chart) => {
      const canvas = chart.canvas;
      const c = { id: canvas.id, section: canvas.closest('section').id, type: chart.config.type,
        width: chart.width, height: chart.height, canvasBox: rect(canvas),
        panelBox: rect(canvas.parentNode), sectionBox: rect(canvas.closest('section')),
        title: canvas.getAttribute('title') || '' };
      let elements = 0;
      chart.data.datasets.forEach((ds, k) => {
        if (!chart.isDatasetVisible(k)) return;
        elements += chart.getDatasetMeta(k).data.filter((el) => isFinite(el.x) && isFinite(el.y)).length;
      });
      c.elements = elements;
      c.heatCells = chart.$heatCells === undefined ? null : chart.$heatCells;
      c.colourBar = chart.$colourBar || null;
      // Pixels that are not (near) white, on a grid of every 4th pixel.
      const ctx = canvas.getContext('2d');
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let y = 0; y < canvas.height; y += 4)
        for (let x = 0; x < canvas.width; x += 4) {
          const p = (y * canvas.width + x) * 4;
          if (img[p] < 235 || img[p + 1] < 235 || img[p + 2] < 235) ink++;
        }
      c.ink = ink;
      c.legend = [];
      const lg = chart.legend;
      if (lg && lg.options.display && lg.legendHitBoxes) {
        ctx.save();
        ctx.font = Chart.helpers.toFont(lg.options.labels.font).string;
        lg.legendItems.forEach((item, k) => {
          const box = lg.legendHitBoxes[k];
          const ds = chart.data.datasets[item.datasetIndex] || {};
          // What hovering the entry shows: the legend's hover handler sets the canvas's tooltip.
          let hover = '';
          if (lg.options.onHover) {
            lg.options.onHover.call(lg, { native: null }, item, lg);
            hover = canvas.getAttribute('title') || '';
            if (lg.options.onLeave) lg.options.onLeave.call(lg, { native: null }, item, lg);
          }
          c.legend.push({ text: item.text, fullName: ds.fullName || '', hover: hover, box: { left: box.left,
            top: box.top, right: box.left + box.width, bottom: box.top + box.height },
            textWidth: ctx.measureText(item.text).width, boxWidth: lg.options.labels.boxWidth });
        });
        ctx.restore();
      }
      c.axes = {};
      for (const [key, scale] of Object.entries(chart.scales))
        c.axes[key] = { type: scale.type, min: scale.min, max: scale.max,
          title: scale.options.title && scale.options.title.text,
          ticks: scale.ticks.map((t) => ({ value: t.value, label: String(t.label) })) };
      out.charts.push(c);
    });
    const pre = document.createElement('pre');
    pre.id = 'nl-check';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  // On load: --dump-dom serialises the page right after the load event, before any later frame.
  window.addEventListener('load', measure);
})();
