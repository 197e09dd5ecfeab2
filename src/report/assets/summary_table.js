// The runs table (the last section): one row per run, sortable by any column, followed by notes on
// missing files and the warnings met while reading. NL.makeTable(n) is called by report_main.js.
(function () {
  'use strict';
  const runs = NL.runs;

  NL.makeTable = (n) => {
    const section = document.createElement('section');
    section.id = 's' + n;
    section.innerHTML = '<h2>' + n + '. Runs</h2><p class="caption">Click a column header to ' +
      'sort; hover a row for the run\'s directory and config. Losses in nats/token.</p>' +
      '<div class="table-wrap"><table id="summary"><thead></thead><tbody></tbody></table></div>' +
      '<div id="notes"></div>';
    document.getElementById('figures').appendChild(section);
    const cols = [
      ['run', (r) => r.name, false], ['placement', (r) => r.placement, false],
      ['norm', (r) => r.norm, false], ['L', (r) => r.n_layers || null, true],
      ['dt', (r) => r.dt, false], ['lr', (r) => (r.lr === '' ? null : Number(r.lr)), true],
      ['seed', (r) => (r.seed === '' ? null : Number(r.seed)), true],
      ['status', (r) => r.status, false], ['final train loss', (r) => r.final_loss, true],
      ['final valid loss', (r) => r.final_valid_loss, true], ['steps', (r) => r.steps, true]];
    const table = document.getElementById('summary');
    const head = document.createElement('tr');
    const body = table.tBodies[0];
    let order = runs.map((r, i) => i);
    let sortCol = -1, sortDir = 1;
    const render = () => {
      body.innerHTML = '';
      order.forEach((i) => {
        const r = runs[i];
        const tr = document.createElement('tr');
        if (r.diverged) tr.className = 'diverged';
        tr.title = r.fullName;
        cols.forEach(([name, get, numeric]) => {
          const td = document.createElement('td');
          const v = get(r);
          if (name === 'final train loss' || name === 'final valid loss') td.textContent = NL.fmt(v);
          else if (name === 'lr') td.textContent = r.lr;
          else if (name === 'seed') td.textContent = r.seed;
          else td.textContent = v === null || v === undefined ? '' : String(v);
          if (numeric) td.className = 'num';
          if (name === 'status') td.className = 'status';
          if (name === 'run') {
            const dot = document.createElement('span');
            dot.textContent = '\u25cf ';
            dot.style.color = r.color;
            td.prepend(dot);
          }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    };
    cols.forEach(([name, get, numeric], c) => {
      const th = document.createElement('th');
      th.textContent = name;
      th.addEventListener('click', () => {
        sortDir = sortCol === c ? -sortDir : 1;
        sortCol = c;
        const key = (i) => get(runs[i]);
        order.sort((a, b) => {
          const x = key(a), y = key(b);
          const xn = x === null || x === undefined || x === '';
          const yn = y === null || y === undefined || y === '';
          if (xn || yn) return xn === yn ? a - b : xn ? 1 : -1;  // blanks last
          if (numeric) return (x - y) * sortDir || a - b;
          return String(x).localeCompare(String(y), undefined, { numeric: true }) * sortDir || a - b;
        });
        render();
      });
      head.appendChild(th);
    });
    table.tHead.appendChild(head);
    render();

    const notes = document.getElementById('notes');
    const add = (text) => {
      const p = document.createElement('p');
      p.className = 'caption';
      p.textContent = text;
      notes.appendChild(p);
    };
    const noMetrics = runs.filter((r) => !r.train.length && !r.valid.length).map((r) => r.name);
    const noDiag = runs.filter((r) => !r.probes.length).map((r) => r.name);
    const noSummary = runs.filter((r) => !r.has_summary).map((r) => r.name);
    if (noMetrics.length) add('No metrics.jsonl: ' + noMetrics.join(', '));
    if (noDiag.length) add('No diagnostics.jsonl: ' + noDiag.join(', '));
    if (noSummary.length) add('No summary.json (unfinished or killed): ' + noSummary.join(', '));
    const warnings = runs.flatMap((r) => r.warnings);
    if (warnings.length) {
      const det = document.createElement('details');
      const sum = document.createElement('summary');
      sum.textContent = warnings.length + ' warning(s) while reading';
      det.appendChild(sum);
      const pre = document.createElement('pre');
      pre.textContent = warnings.join('\n');
      det.appendChild(pre);
      notes.appendChild(det);
    }
  };
})();
