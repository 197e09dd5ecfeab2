// Last of the page's script files: draws every registered figure in number order, then the runs
// table, then (PNG variant) writes each figure's image into the DOM. It marks the body with the
// number of figures drawn and, on any error, with the error text: the end-to-end tests and the PNG
// export read those two attributes (their names are in the last lines). This text is part of the
// page and those checks search the page, so do not write an attribute with its value in a comment.
(function () {
  'use strict';
  const figures = {};
  let ready = 0;
  const errors = [];
  // Each figure is independent, so one failure does not hide the rest.
  const hasData = (source) => (source === 'checks' ? NL.checks : NL.runs).length > 0;
  NL.figures.sort((a, b) => a.n - b.n).forEach((f) => {
    if (!hasData(f.source)) return;
    try {
      figures[f.key] = f.make();
      if (figures[f.key]) ready++;
    } catch (e) {
      errors.push(f.key + ': ' + (e && e.message ? e.message : String(e)));
    }
  });
  // The table is numbered after the last figure the page has (a page without checks has no 10).
  const last = Math.max(0, ...NL.figures.filter((f) => hasData(f.source)).map((f) => f.n));
  if (hasData('runs'))
    try { NL.makeTable(last + 1); } catch (e) { errors.push('table: ' + e.message); }
  NL.drawn = figures;

  if (NL.PNG && !errors.length) {
    const out = document.getElementById('png-out');
    try {
      NL.figures.forEach((f) => {
        if (!figures[f.key]) return;
        figures[f.key].pngs().forEach(([name, url]) => {
          const pre = document.createElement('pre');
          pre.className = 'png-out';
          pre.setAttribute('data-name', name);
          pre.textContent = url;
          out.appendChild(pre);
        });
      });
    } catch (e) {
      errors.push('png: ' + e.message);
    }
  }
  if (errors.length) document.body.setAttribute('data-error', errors.join(' | '));
  document.body.setAttribute('data-charts-ready', String(ready));
})();
