import '../app.css';
import { lineChart, table } from './charts.js';

const $ = (id) => document.getElementById(id);
const AGES = ['<4h', '4-24h', '1-3d', '3-7d', '7-30d', '>30d'];
const nf = new Intl.NumberFormat('en-US');
const money = (n) => (n === null || n === undefined ? '–' : '$' + nf.format(Math.round(n)));
const pct = (n) => (n === null || n === undefined ? '–' : (n * 100).toFixed(1) + ' %');
const mins = (m) => (m === null || m === undefined ? '–' : m < 90 ? `${Math.round(m)} min` : m < 2880 ? `${(m / 60).toFixed(1)} h` : `${(m / 1440).toFixed(1)} d`);

class Unauthorized extends Error {}

async function get(path, params = {}) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null));
  const res = await fetch(`/v1/reports/${path}?${qs}`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json();
  if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
  return body;
}

function filters() {
  const f = Object.fromEntries(new FormData($('filters')));
  const to = new Date();
  const from = new Date(to.getTime() - Number(f.range) * 86400000);
  return { from: from.toISOString(), to: to.toISOString(), tz: f.tz || 'UTC', bucket: f.bucket, businessUnit: f.businessUnit, site: f.site, team: f.team, category: f.category };
}
const pick = (f, ...keys) => Object.fromEntries(keys.map((k) => [k, f[k]]));

function card(label, value, id) {
  const c = document.createElement('div');
  c.className = 'card';
  const b = document.createElement('b');
  b.id = id;
  b.textContent = value;
  const s = document.createElement('span');
  s.textContent = label;
  c.append(b, s);
  return c;
}

async function renderHeadline(f) {
  const { summary: s } = await get('headline', pick(f, 'from', 'to', 'businessUnit', 'site', 'team', 'category'));
  $('headline').replaceChildren(
    card('exceptions', nf.format(s.exceptions), 'hl-exceptions'),
    card('amount at risk raised', money(s.amountAtRisk), 'hl-amount'),
    card('repeat rate', pct(s.repeatRate), 'hl-repeat'),
    card('open cases', nf.format(s.openCases), 'hl-open'),
    card('open critical', nf.format(s.openCritical), 'hl-critical'),
    card('open past SLA', nf.format(s.openOverdue), 'hl-overdue'),
    card('SLA breach rate (resolved)', pct(s.slaBreachRate), 'hl-breach'),
    card('resolve p50', mins(s.resolveP50Minutes), 'hl-p50'),
  );
}

async function renderTrend(f) {
  const { rows } = await get('volume', { ...pick(f, 'from', 'to', 'tz', 'bucket', 'businessUnit', 'site', 'team', 'category'), groupBy: 'category' });
  const labels = [...new Set(rows.map((r) => r.bucket))];
  const idx = new Map(labels.map((l, i) => [l, i]));
  const by = new Map();
  for (const r of rows) {
    if (!by.has(r.category)) by.set(r.category, new Array(labels.length).fill(0));
    by.get(r.category)[idx.get(r.bucket)] += r.exceptions;
  }
  lineChart($('trend'), labels, [...by.entries()].map(([name, values]) => ({ name, values })));
}

async function renderAging(f) {
  const { rows } = await get('aging', { ...pick(f, 'businessUnit', 'site', 'team', 'category'), groupBy: 'team' });
  const teams = [...new Set(rows.map((r) => r.team))].sort();
  const max = Math.max(1, ...rows.map((r) => r.cases));
  const grid = teams.map((team) => Object.fromEntries([['team', team], ...AGES.map((a) => [a, rows.find((r) => r.team === team && r.age === a)?.cases ?? 0])]));
  table($('aging'), grid, [
    { key: 'team', label: 'team' },
    ...AGES.map((a) => ({
      key: a, label: a, num: true,
      fmt: (v, r) => {
        const span = document.createElement('span');
        span.textContent = nf.format(v);
        span.dataset.testid = `aging-${r.team}-${a}`;
        return span;
      },
    })),
  ], 'No open cases.');
  // Heat: shade each cell by its share of the largest cell.
  $('aging').querySelector('table')?.classList.add('heat');
  $('aging').querySelectorAll('tbody tr').forEach((tr, i) => {
    AGES.forEach((a, j) => {
      const v = grid[i][a];
      tr.cells[j + 1].style.background = v ? `rgba(198, 40, 40, ${0.15 + (0.85 * v) / max})` : '';
    });
  });
}

async function renderPareto(f) {
  const dim = $('pareto-dim').value;
  const { rows } = await get('pareto', { ...pick(f, 'from', 'to', 'businessUnit', 'site', 'team', 'category'), groupBy: dim, limit: 10 });
  const max = Math.max(1, ...rows.map((r) => r.exceptions));
  table($('pareto'), rows, [
    { key: dim, label: dim, fmt: (v) => v || '(none)' },
    { key: 'exceptions', label: 'exceptions', num: true, fmt: (v) => nf.format(v) },
    { key: 'share', label: 'share', num: true, fmt: pct },
    { key: 'cumulativeShare', label: 'cumulative', num: true, fmt: pct },
    { key: 'exceptions', label: '', fmt: (v) => { const d = document.createElement('div'); d.className = 'bar'; d.style.width = `${(100 * v) / max}px`; return d; } },
  ], 'No exceptions in this range.');
}

async function renderUpstream(f) {
  const { rows } = await get('upstream-causes', { ...pick(f, 'from', 'to', 'businessUnit', 'site'), limit: 10 });
  table($('upstream'), rows, [
    { key: 'upstreamCode', label: 'upstream', fmt: (v) => v.replace('INTEGRATION.', '') },
    { key: 'matchedOn', label: 'where' },
    { key: 'downstreamCodes', label: 'caused' },
    { key: 'downstreamExceptions', label: 'downstream', num: true },
    { key: 'downstreamAmountAtRisk', label: 'at risk', num: true, fmt: money },
  ], 'No linked upstream causes.');
}

async function renderConnectors(f) {
  const { rows } = await get('connectors', { ...pick(f, 'from', 'to'), bucket: 'month' });
  const by = new Map();
  for (const r of rows) {
    const a = by.get(r.connector) ?? { connector: r.connector, messages: 0, failures: 0, retries: 0, deadLetters: 0, mappingFailures: 0, rejectedAcks: 0 };
    for (const k of ['messages', 'failures', 'retries', 'deadLetters', 'mappingFailures', 'rejectedAcks']) a[k] += r[k];
    by.set(r.connector, a);
  }
  const list = [...by.values()].map((a) => ({ ...a, rate: a.messages ? (a.failures + a.deadLetters) / a.messages : null })).sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0));
  table($('connectors'), list, [
    { key: 'connector', label: 'connector' },
    { key: 'messages', label: 'messages', num: true, fmt: (v) => nf.format(v) },
    { key: 'failures', label: 'failed', num: true },
    { key: 'retries', label: 'retries', num: true },
    { key: 'deadLetters', label: 'dead', num: true, cls: (r) => (r.deadLetters ? 'overdue' : '') },
    { key: 'mappingFailures', label: 'mapping', num: true },
    { key: 'rejectedAcks', label: 'rej. acks', num: true },
    { key: 'rate', label: 'fail %', num: true, fmt: pct },
  ], 'No connector traffic in this range.');
}

let critical = [];
async function renderCritical(f) {
  ({ rows: critical } = await get('critical-cases', { ...pick(f, 'businessUnit', 'site', 'team', 'category'), limit: 15 }));
  drawCritical();
}
function drawCritical() {
  const now = Date.now();
  table($('critical'), critical, [
    { key: 'number', label: '#' },
    { key: 'title', label: 'case' },
    { key: 'site', label: 'site' },
    { key: 'team', label: 'team' },
    {
      key: 'resolveDueAt', label: 'resolve due', num: true,
      fmt: (v) => {
        if (!v) return 'no SLA';
        const ms = new Date(v).getTime() - now;
        const abs = Math.abs(ms), h = Math.floor(abs / 3600000), m = Math.floor((abs % 3600000) / 60000), s = Math.floor((abs % 60000) / 1000);
        return `${ms < 0 ? '−' : ''}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
      },
      cls: (r) => (!r.resolveDueAt ? '' : new Date(r.resolveDueAt).getTime() < now ? 'overdue' : new Date(r.resolveDueAt).getTime() - now < 3600000 ? 'soon' : ''),
    },
  ], 'No open critical cases.');
}

async function renderCycle(f) {
  const { rows } = await get('cycle-times', { ...pick(f, 'from', 'to', 'businessUnit', 'site', 'team', 'category'), groupBy: 'team' });
  const by = new Map();
  for (const r of rows) {
    const a = by.get(r.team) ?? { team: r.team };
    a[`${r.metric}50`] = r.p50Minutes; a[`${r.metric}90`] = r.p90Minutes; a.cases = Math.max(a.cases ?? 0, r.cases);
    by.set(r.team, a);
  }
  table($('cycle'), [...by.values()], [
    { key: 'team', label: 'team' },
    { key: 'acknowledge50', label: 'ack p50', num: true, fmt: mins }, { key: 'acknowledge90', label: 'ack p90', num: true, fmt: mins },
    { key: 'resolve50', label: 'resolve p50', num: true, fmt: mins }, { key: 'resolve90', label: 'resolve p90', num: true, fmt: mins },
  ], 'No acknowledged or resolved cases in this range.');
}

async function renderScorecards(f) {
  const { rows } = await get('scorecards', { ...pick(f, 'from', 'to'), limit: 20 });
  table($('scorecards'), rows.filter((r) => r.documents > 0), [
    { key: 'partner', label: 'partner' },
    { key: 'documents', label: 'documents', num: true, fmt: (v) => nf.format(v) },
    { key: 'onTime855', label: 'on-time 855', num: true, fmt: pct },
    { key: 'onTime856', label: 'on-time 856', num: true, fmt: pct },
    { key: 'onTime810', label: 'on-time 810', num: true, fmt: pct },
    { key: 'rejectedAckRate', label: 'rejected acks', num: true, fmt: pct },
    { key: 'exceptionsPer100Documents', label: 'exceptions / 100 docs', num: true },
  ], 'No partner documents in this range.');
}

async function loadOptions() {
  const to = new Date(), from = new Date(to.getTime() - 365 * 86400000);
  for (const dim of ['businessUnit', 'site', 'team', 'category']) {
    const { rows } = await get('pareto', { from: from.toISOString(), to: to.toISOString(), groupBy: dim, limit: 100 });
    const sel = $('filters').elements[dim];
    const keep = sel.value;
    sel.replaceChildren(new Option('all', ''), ...rows.map((r) => r[dim]).filter(Boolean).sort().map((v) => new Option(v, v)));
    sel.value = keep;
  }
}

let running = null, again = false;
async function refresh() {
  if (running) { again = true; return running; }
  const f = filters();
  running = Promise.all([renderHeadline(f), renderTrend(f), renderAging(f), renderPareto(f), renderUpstream(f), renderConnectors(f), renderCritical(f), renderCycle(f), renderScorecards(f)])
    .then(() => { $('error').textContent = ''; $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`; document.body.dataset.loaded = String(Date.now()); })
    .catch((e) => { if (e instanceof Unauthorized) showLogin(); else $('error').textContent = e.message; })
    .finally(() => { running = null; if (again) { again = false; void refresh(); } });
  return running;
}

let source = null, debounce = null;
function connect() {
  source?.close();
  source = new EventSource('/v1/reports/stream');
  // A reconnect may have missed changes while the stream was down: redraw once it is back.
  let opened = false;
  source.onopen = () => { $('live').classList.remove('off'); if (opened) void refresh(); opened = true; };
  source.onerror = () => $('live').classList.add('off');
  source.addEventListener('changed', () => {
    $('live').classList.add('flash');
    setTimeout(() => $('live').classList.remove('flash'), 600);
    clearTimeout(debounce);
    debounce = setTimeout(() => void refresh(), 300);
  });
}

function showLogin() {
  source?.close();
  $('app').hidden = true;
  $('login').hidden = false;
}

async function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  try {
    await loadOptions();
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin();
  }
  await refresh();
  connect();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const res = await fetch('/dashboard/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey: $('api-key').value }) });
  if (res.status === 204) { $('login-error').textContent = ''; $('api-key').value = ''; void start(); }
  else $('login-error').textContent = (await res.json().catch(() => ({}))).message || `sign-in failed (HTTP ${res.status})`;
});
$('logout').addEventListener('click', async () => { await fetch('/dashboard/logout', { method: 'POST' }); showLogin(); });
$('filters').addEventListener('change', () => void refresh());
$('pareto-dim').addEventListener('change', () => void renderPareto(filters()));
setInterval(drawCritical, 1000);
void start();
