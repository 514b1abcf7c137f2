// Plain SVG charts: a multi-series line chart and helpers for tables; no chart library needed.
const NS = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#2563eb', '#c62828', '#2e7d32', '#b26a00', '#6a1b9a', '#00838f', '#5d4037', '#ad1457', '#455a64'];

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/** series: [{ name, points: [[x label, y]] }] sharing the same x labels (in order). */
export function lineChart(host, labels, series) {
  host.replaceChildren();
  if (!labels.length) {
    host.append(Object.assign(document.createElement('p'), { className: 'empty', textContent: 'No exceptions in this range.' }));
    return;
  }
  const W = 900, H = 220, L = 44, B = 22, T = 8, R = 8;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'exceptions over time' }, host);
  const x = (i) => L + (labels.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (labels.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  for (let g = 0; g <= 4; g++) {
    const v = (max * g) / 4;
    el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#e2e5ea' }, svg);
    el('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7385' }, svg).textContent = Math.round(v);
  }
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((l, i) => {
    if (i % step) return;
    el('text', { x: x(i), y: H - 6, 'text-anchor': 'middle', 'font-size': 10, fill: '#6b7385' }, svg).textContent = l.replace('T00:00', '');
  });
  series.forEach((s, si) => {
    const d = s.values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    el('path', { d, fill: 'none', stroke: PALETTE[si % PALETTE.length], 'stroke-width': 1.6 }, svg);
  });
  const legend = document.createElement('div');
  legend.className = 'legend';
  series.forEach((s, si) => {
    const item = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = PALETTE[si % PALETTE.length];
    item.append(sw, `${s.name} (${s.values.reduce((a, b) => a + b, 0)})`);
    legend.append(item);
  });
  host.append(legend);
}

/** A table from rows; columns: [{ key, label, num?, fmt?, cls? }]. */
export function table(host, rows, columns, empty = 'Nothing to show.') {
  host.replaceChildren();
  if (!rows.length) {
    host.append(Object.assign(document.createElement('p'), { className: 'empty', textContent: empty }));
    return;
  }
  const t = document.createElement('table');
  const head = t.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement('th');
    th.textContent = c.label;
    if (c.num) th.className = 'n';
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of columns) {
      const td = tr.insertCell();
      const v = c.fmt ? c.fmt(r[c.key], r) : r[c.key];
      if (v instanceof Node) td.append(v);
      else td.textContent = v === null || v === undefined ? '–' : String(v);
      if (c.num) td.classList.add('n');
      if (c.cls) { const k = c.cls(r); if (k) td.classList.add(k); }
      if (c.testid) td.dataset.testid = c.testid(r);
    }
  }
  host.append(t);
}
