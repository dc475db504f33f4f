// FlowScope dashboard entry point: views, URL state, live feed, import/export.
// The flow map, replay, compare, controls and the import/export code load when
// first used, to keep the first load small.
import { LiveFeed, queryTraces, isValidId } from './api.js';
import { TraceList, emptyFilters } from './trace-list.js';
import { TraceView } from './trace-view.js';
import { Header } from './header.js';
import { source, spanMatches, REPLAY_SPEEDS, importedFigures } from './model.js';
import { h, toast, isTyping } from './dom.js';
import { formatCount } from './format.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['traces', 'map', 'replay', 'compare', 'controls'];

const state = {
  view: 'traces',
  traceId: null,
  spanId: null,
  filters: emptyFilters(),
  paused: false,
  pending: new Map(),
  feedState: 'connecting',
  compare: { a: null, b: null },
  replay: null, // { trace } | { from, to }
  speed: 1,
};

// ---- Theme ------------------------------------------------------------------

const THEMES = ['system', 'dark', 'light'];
function applyTheme(theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  $('theme').title = `Theme: ${theme === 'system' ? 'follow the system' : theme} (T)`;
  $('theme').textContent = theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐';
}
let theme = 'system';
try { theme = THEMES.includes(localStorage.getItem('flowscope.theme')) ? localStorage.getItem('flowscope.theme') : 'system'; } catch { /* storage blocked */ }
applyTheme(theme);
function cycleTheme() {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  try { localStorage.setItem('flowscope.theme', theme); } catch { /* storage blocked */ }
  applyTheme(theme);
}
$('theme').addEventListener('click', cycleTheme);

// ---- Views ------------------------------------------------------------------

const list = new TraceList({
  scroller: $('list-scroll'),
  spacer: $('list-spacer'),
  emptyEl: $('list-empty'),
  countEl: $('count'),
  newButton: $('list-new'),
  routineEl: $('routine-count'),
  onSelect: (id) => selectTrace(id, null, { push: true }),
  onEvicted: (ids) => { if (state.traceId && ids.includes(state.traceId)) traceView.markEvicted(state.traceId); },
});

// The list holds as many rows as the store holds traces, at most 5 000 (the newest; older ones stay searchable): a
// store limited by count (MaxTraces) sets it exactly; a store capped in memory holds thousands, and rows whose trace it
// lets go are marked by the eviction feed. No change until the first stats come.
const ListCapacity = (s) => {
  if (!s) return undefined;
  const max = Number(s.maxTraces) || 0;
  return max > 0 ? Math.min(5000, max) : Math.min(5000, Math.max(1000, Number(s.storedTraces) || 0));
};

const header = new Header({ onStats: (s) => { if (!source.isImported) list.setCapacity(ListCapacity(s)); } });

const traceView = new TraceView($('detail'), {
  onSpanSelect: (spanId) => { state.spanId = spanId; writeUrl({ push: false }); },
  onClose: () => { selectTrace(null, null, { push: true }); list.focus(); },
  onMissing: (traceId) => list.markEvicted([traceId]),
  isEvicted: (traceId) => list.isEvicted(traceId),
  onAction: (kind, traceId) => {
    if (kind === 'replay') startReplay({ trace: traceId }, { push: true });
    else if (kind === 'compare') { state.compare = { a: traceId, b: null }; views.compare().then((c) => c.open(traceId)); setView('compare', { push: true }); }
    else if (kind === 'export') exportTraces([traceId], `flowscope-trace-${traceId}.json`);
    else if (kind === 'open') { setView('traces', { push: false }); selectTrace(traceId, null, { push: true }); }
  },
});

// Views made on first use.
function lazy(load) {
  let instance = null;
  let promise = null;
  const get = () => {
    promise ??= load().then((v) => { instance = v; return v; }).catch((err) => { promise = null; throw err; });
    return promise;
  };
  get.now = () => instance;
  return get;
}

const views = {
  map: lazy(async () => {
    const { MapView } = await import('./map-view.js');
    return new MapView({
      host: $('map-host'),
      card: $('map-card'),
      getMetrics: () => (source.isImported ? null : header.metrics),
      onOpenTrace: (id) => { setView('traces', { push: true }); selectTrace(id, null, { push: false }); },
      onShowTraces: (node) => {
        state.filters = { ...emptyFilters(), component: node.component };
        writeFilterInputs();
        applyFilters();
        setView('traces', { push: true });
      },
    });
  }),
  replay: lazy(async () => {
    const { ReplayView } = await import('./replay.js');
    const view = new ReplayView($('view-replay'), { onState: () => { state.speed = view.speed; writeUrl({ push: false }); } });
    view.setSpeed(state.speed);
    return view;
  }),
  compare: lazy(async () => {
    const { CompareView } = await import('./compare.js');
    return new CompareView($('view-compare'), {
      getSummaries: () => list.visibleSummaries(),
      getAllSummaries: () => list.allSummaries(),
      onChange: (a, b) => { state.compare = { a, b }; writeUrl({ push: false }); },
      onOpenTrace: (id) => { setView('traces', { push: true }); selectTrace(id, null, { push: false }); },
    });
  }),
  controls: lazy(async () => {
    const { ControlsView } = await import('./controls.js');
    return new ControlsView($('view-controls'), {
      onShowTraces: (filters) => {
        state.filters = { ...emptyFilters(), ...filters };
        writeFilterInputs();
        applyFilters();
        setView('traces', { push: true });
      },
    });
  }),
};

function failedToLoad(view, err) {
  $(`view-${view}`).replaceChildren(h('div', { class: 'error-box', role: 'alert' }, h('p', { text: `Could not load this view: ${err?.message || err}` })));
}

function setView(view, { push = false, fromUrl = false } = {}) {
  if (!VIEWS.includes(view)) view = 'traces';
  const prev = state.view;
  state.view = view;
  for (const v of VIEWS) {
    $(`view-${v}`).hidden = v !== view;
    const tab = $(`tab-${v}`);
    tab.setAttribute('aria-selected', String(v === view));
    tab.tabIndex = v === view ? 0 : -1;
  }
  if (view === 'map') views.map().then((m) => { if (state.view === 'map') m.activate(); }, (err) => failedToLoad('map', err));
  else views.map.now()?.deactivate();
  if (view !== 'replay' && prev === 'replay') views.replay.now()?.deactivate();
  if (view === 'replay') views.replay().catch((err) => failedToLoad('replay', err));
  if (view === 'compare') views.compare().then((c) => c.refreshChoices(), (err) => failedToLoad('compare', err));
  if (view === 'controls') views.controls().then((c) => { if (state.view === 'controls') c.activate(); }, (err) => failedToLoad('controls', err));
  else views.controls.now()?.deactivate();
  if (!fromUrl) writeUrl({ push: push && prev !== view });
}

for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => setView(tab.dataset.view, { push: true }));
  tab.addEventListener('keydown', (e) => {
    const i = VIEWS.indexOf(tab.dataset.view);
    let j = null;
    if (e.key === 'ArrowRight') j = (i + 1) % VIEWS.length;
    else if (e.key === 'ArrowLeft') j = (i + VIEWS.length - 1) % VIEWS.length;
    if (j == null) return;
    e.preventDefault();
    setView(VIEWS[j], { push: true });
    $(`tab-${VIEWS[j]}`).focus();
  });
}

// ---- URL state (deep links + back button) -------------------------------------

const FILTER_KEYS = {
  q: 'q', name: 'name', errors: 'errors', status: 'status', kind: 'kind', nplus: 'nplus', component: 'comp', min: 'min', max: 'max',
  attr: 'attr', range: 'range', from: 'from', to: 'to', sort: 'sort', routine: 'routine', kept: 'kept',
};
const BOOLEAN_FILTERS = new Set(['errors', 'nplus', 'routine']);

function writeUrl({ push }) {
  const url = new URL(location.href);
  const p = new URLSearchParams();
  const set = (k, v) => { if (v != null && v !== '' && v !== false) p.set(k, v === true ? '1' : String(v)); };
  if (state.view !== 'traces') set('view', state.view);
  set('trace', state.traceId);
  if (state.traceId) set('span', state.spanId);
  for (const [k, u] of Object.entries(FILTER_KEYS)) if (!(k === 'sort' && state.filters.sort === 'time')) set(u, state.filters[k]);
  if (state.view === 'compare') { set('a', state.compare.a); set('b', state.compare.b); }
  if (state.view === 'replay' && state.replay) {
    set('rtrace', state.replay.trace);
    set('rfrom', state.replay.from);
    set('rto', state.replay.to);
    if (state.speed !== 1) set('speed', state.speed);
  }
  url.search = p.toString();
  url.hash = '';
  if (url.href === location.href) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function applyUrl() {
  const p = new URLSearchParams(location.search);
  const f = emptyFilters();
  for (const [k, u] of Object.entries(FILTER_KEYS)) {
    const v = p.get(u);
    if (v == null) continue;
    f[k] = BOOLEAN_FILTERS.has(k) ? v === '1' || v === 'true' : v;
  }
  if (!['time', 'duration'].includes(f.sort)) f.sort = 'time';
  if (!['', '2xx', '3xx', '4xx', '5xx'].includes(f.status)) f.status = '';
  const changed = JSON.stringify(f) !== JSON.stringify(state.filters);
  state.filters = f;
  writeFilterInputs();
  if (changed) applyFilters();
  const id = (k) => (isValidId(p.get(k)) ? p.get(k) : null);
  selectTrace(id('trace'), id('span'), { fromUrl: true });
  const view = VIEWS.includes(p.get('view')) ? p.get('view') : 'traces';
  setView(view, { fromUrl: true }); // first, so that state written back below keeps the view's parameters
  const speed = Number(p.get('speed'));
  if (REPLAY_SPEEDS.includes(speed)) { state.speed = speed; views.replay.now()?.setSpeed(speed); }
  if (view === 'replay') {
    const spec = id('rtrace') ? { trace: id('rtrace') } : p.get('rfrom') && p.get('rto') ? { from: p.get('rfrom'), to: p.get('rto') } : null;
    if (spec && JSON.stringify(spec) !== JSON.stringify(state.replay)) startReplay(spec, { fromUrl: true });
  }
  if (view === 'compare') {
    const a = id('a'), b = id('b');
    if (a !== state.compare.a || b !== state.compare.b) { state.compare = { a, b }; views.compare().then((c) => c.setPair(a, b)); }
  }
}

window.addEventListener('popstate', applyUrl);

function selectTrace(traceId, spanId, { push = false, fromUrl = false } = {}) {
  state.traceId = traceId || null;
  state.spanId = traceId ? spanId || null : null;
  list.setSelected(state.traceId);
  if (!fromUrl) writeUrl({ push });
  if (!state.traceId) {
    traceView.showEmpty();
    document.title = 'FlowScope';
    return;
  }
  const name = list.get(state.traceId)?.name;
  document.title = name ? `${name} · FlowScope` : 'FlowScope';
  traceView.show(state.traceId, state.spanId);
}

function startReplay(spec, { push = false, fromUrl = false } = {}) {
  state.replay = spec;
  views.replay().then((r) => {
    if (spec.trace) r.loadTrace(spec.trace);
    else r.loadWindow(spec.from, spec.to);
  }, (err) => failedToLoad('replay', err));
  if (!fromUrl) setView('replay', { push });
}

// ---- Filters ------------------------------------------------------------------

const inputs = {
  q: $('f-q'), name: $('f-name'), errors: $('f-errors'), status: $('f-status'), kind: $('f-kind'), nplus: $('f-nplus'),
  component: $('f-component'), min: $('f-min'), max: $('f-max'), attr: $('f-attr'), range: $('f-range'), from: $('f-from'),
  to: $('f-to'), sort: $('f-sort'), routine: $('f-routine'), kept: $('f-kept'),
};

// The custom time range lives in the URL as ISO 8601 and in the inputs as local time.
const toLocalInput = (iso) => {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
const fromLocalInput = (text) => {
  const d = new Date(text);
  return text && !Number.isNaN(d.getTime()) ? d.toISOString() : '';
};

function writeFilterInputs() {
  for (const [k, el] of Object.entries(inputs)) {
    if (BOOLEAN_FILTERS.has(k)) el.checked = !!state.filters[k];
    else if (k === 'from' || k === 'to') el.value = toLocalInput(state.filters[k]);
    else if (el.value !== String(state.filters[k] ?? '')) el.value = String(state.filters[k] ?? '');
  }
  $('f-custom').hidden = state.filters.range !== 'custom';
}

function readFilterInputs() {
  const f = {};
  for (const [k, el] of Object.entries(inputs)) {
    f[k] = BOOLEAN_FILTERS.has(k) ? el.checked : k === 'from' || k === 'to' ? fromLocalInput(el.value) : el.value.trim();
  }
  if (f.range !== 'custom') { f.from = ''; f.to = ''; }
  $('f-custom').hidden = f.range !== 'custom';
  return f;
}

let filterTimer = 0;
let urlTimer = 0;
function onFilterInput() {
  state.filters = readFilterInputs();
  clearTimeout(filterTimer);
  filterTimer = setTimeout(applyFilters, 150);
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => writeUrl({ push: false }), 500);
}
function onFilterChange() {
  state.filters = readFilterInputs();
  clearTimeout(filterTimer);
  applyFilters();
  writeUrl({ push: true });
}
$('filters').addEventListener('input', onFilterInput);
$('filters').addEventListener('change', onFilterChange);
$('f-routine').addEventListener('change', onFilterChange);
$('filters').addEventListener('submit', (e) => e.preventDefault());
$('f-clear').addEventListener('click', () => {
  state.filters = emptyFilters();
  writeFilterInputs();
  applyFilters();
  writeUrl({ push: true });
});

// "key=value" or just "key" (some span carries the attribute).
function parseAttr(text) {
  const t = String(text || '').trim();
  if (!t) return null;
  const i = t.indexOf('=');
  if (i < 0) return { key: t, value: null };
  return i > 0 ? { key: t.slice(0, i).trim(), value: t.slice(i + 1).trim() } : null;
}

const attrParam = (a) => (a.value == null ? a.key : `${a.key}=${a.value}`);

let serverFilterSeq = 0;
let serverFilterTimer = 0;

// New traces may match the search: it is asked again a second after they arrive — but only while nobody is on
// the list, whose rows it would move.
function scheduleSearchRefresh() {
  if (serverFilterTimer) return; // at most one a second, however fast traces arrive
  serverFilterTimer = setTimeout(() => {
    serverFilterTimer = 0;
    if (list.held) scheduleSearchRefresh();
    else applyFilters({ asked: false });
  }, 1000);
}

// Client-side filters apply at once; full-text and attribute filters need the
// spans, so they are asked from the server (or evaluated over the imported file).
async function applyFilters({ asked = true } = {}) {
  const f = state.filters;
  const seq = ++serverFilterSeq; // an answer to an earlier search is stale from now on
  const attr = parseAttr(f.attr);
  const note = $('filter-note');
  if (f.range === 'custom' && (f.from || f.to) && !source.isImported) loadRange(f.from, f.to);
  if (!f.q && !attr && (!f.kept || source.isImported)) {
    note.hidden = true;
    list.setFilters(f, null);
    return;
  }
  if (source.isImported) {
    const needle = f.q.toLowerCase();
    const ids = new Set();
    for (const t of source.imported.values()) {
      const okQ = !needle || t.spans.some((s) => spanMatches(s, needle));
      const okA = !attr || t.spans.some((s) => s.attributes && attr.key in s.attributes
        && (attr.value == null || String(s.attributes[attr.key]).toLowerCase() === attr.value.toLowerCase()));
      if (okQ && okA) ids.add(t.traceId);
    }
    note.hidden = true;
    list.setFilters(f, ids);
    return;
  }
  $('list-scroll').dataset.search = 'asking';
  try {
    const params = { limit: 1000 };
    if (f.q) params.q = f.q;
    if (f.sort === 'duration') params.sort = 'duration';
    if (attr) params.attr = attrParam(attr);
    // Why a trace is kept is decided in the store as it fills, so only the store can say it now.
    if (f.kept) params.kept = f.kept;
    const page = await queryTraces(params);
    if (seq !== serverFilterSeq) return;
    note.hidden = true;
    list.applyResults(f, new Set(page.traces.map((t) => t.traceId)), page.traces, { asked });
    $('list-scroll').dataset.search = 'answered';
  } catch (err) {
    if (seq !== serverFilterSeq) return;
    $('list-scroll').dataset.search = 'failed';
    note.hidden = false;
    note.textContent = `search failed: ${err?.message || err}`;
  }
}

// ---- Live feed + pause --------------------------------------------------------

function ingest(summaries, kind) {
  if (!summaries.length || source.isImported) return;
  if (state.paused) {
    for (const s of summaries) state.pending.set(s.traceId, s);
    renderPending();
    return;
  }
  applyIncoming(summaries, kind === 'hydrate');
}

function applyIncoming(summaries, force = false) {
  const changed = list.upsert(summaries, { force, live: true });
  if (state.traceId && changed.has(state.traceId)) traceView.refreshSoon();
  views.map.now()?.onTraces(summaries);
  if (state.filters.q || parseAttr(state.filters.attr)) scheduleSearchRefresh();
}

function onEvicted(ids, overflow) {
  if (source.isImported) return;
  for (const id of ids) state.pending.delete(id);
  list.markEvicted(ids);
  if (overflow) list.setCapacity(Math.max(1, Number(header.stats?.storedTraces) || list.capacity));
}

function renderPending() {
  const el = $('pending');
  const n = state.pending.size;
  el.hidden = !state.paused;
  el.textContent = n === 0 ? 'paused — no new traces' : `paused — ${formatCount(n)} update${n === 1 ? '' : 's'} waiting`;
}

function togglePause() {
  state.paused = !state.paused;
  const btn = $('pause');
  btn.textContent = state.paused ? 'Resume' : 'Pause';
  btn.setAttribute('aria-pressed', String(state.paused));
  btn.classList.toggle('active', state.paused);
  if (!state.paused && state.pending.size) {
    const buffered = [...state.pending.values()];
    state.pending.clear();
    applyIncoming(buffered);
  }
  renderPending();
  renderConnection();
}
$('pause').addEventListener('click', togglePause);

const CONN_LABELS = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', polling: 'polling', paused: 'paused', imported: 'imported file' };

function renderConnection() {
  const shown = source.isImported ? 'imported' : state.paused ? 'paused' : state.feedState;
  const conn = $('conn');
  conn.dataset.state = shown;
  $('conn-label').textContent = CONN_LABELS[shown] ?? shown;
}

const feed = new LiveFeed({
  onTraces: (summaries, kind) => ingest(summaries, kind),
  onEvicted,
  onState: (s) => { state.feedState = s; renderConnection(); },
});

// A custom time range may reach further back than the traces loaded so far.
let rangeKey = '';
async function loadRange(from, to) {
  const key = `${from}|${to}`;
  if (key === rangeKey) return;
  rangeKey = key;
  try {
    const page = await queryTraces({ from, to, limit: 1000 });
    if (!source.isImported) list.upsert(page.traces);
  } catch {
    rangeKey = '';
  }
}

// History: the newest traces first (a small first load), then older pages in the
// background until the list holds as many as the store.
const FIRST_HISTORY = 200;
const HISTORY_PAGE = 1000;
let historyRun = 0;
async function loadHistory() {
  const run = ++historyRun;
  try {
    let page = await queryTraces({ limit: FIRST_HISTORY });
    if (source.isImported || run !== historyRun) return;
    list.upsert(page.traces);
    while (page.nextCursor && list.size < list.capacity) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if (source.isImported || run !== historyRun) return;
      page = await queryTraces({ limit: HISTORY_PAGE, cursor: page.nextCursor });
      // Older rows join only while nobody is on the list (sorted by duration they could land anywhere).
      while (list.held && run === historyRun) await new Promise((resolve) => setTimeout(resolve, 1000));
      if (source.isImported || run !== historyRun) return;
      list.upsert(page.traces);
    }
  } catch {
    // the live stream's hydrate still fills the list; a stale cursor just ends the paging
  }
}

// ---- Export / import ------------------------------------------------------------

async function exportTraces(ids, filename) {
  const { exportTraces: run } = await import('./transfer.js');
  return run(ids, filename);
}

$('export-set').addEventListener('click', () => {
  const ids = list.visibleSummaries().map((s) => s.traceId);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  exportTraces(ids, `flowscope-traces-${stamp}.json`);
});

$('import-file').addEventListener('change', async (e) => {
  const input = e.target;
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  const { importFile } = await import('./transfer.js');
  await importFile(file);
});

$('back-live').addEventListener('click', () => source.backToLive());

source.onChange(() => {
  const imported = source.isImported;
  $('source-banner').hidden = !imported;
  $('source-label').textContent = imported ? `Imported: ${source.importName} · ${formatCount(source.imported.size)} traces` : '';
  document.body.classList.toggle('imported', imported);
  header.setImported(imported ? importedFigures(source) : null);
  state.pending.clear();
  list.clear();
  selectTrace(null, null, { push: false });
  state.compare = { a: null, b: null };
  views.compare.now()?.setPair(null, null);
  if (imported) {
    list.setCapacity(Math.max(1, source.imported.size));
    list.upsert([...source.imported.values()].map((t) => t.summary), { force: true });
    toast(`Imported ${formatCount(source.imported.size)} trace(s) from ${source.importName}.`);
  } else {
    list.setCapacity(ListCapacity(header.stats));
    loadHistory();
  }
  applyFilters();
  renderConnection();
  renderPending();
  views.map.now()?.refresh();
});

// ---- Keyboard -----------------------------------------------------------------

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (isTyping(e.target)) {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  if (e.target.closest?.('button, [role="tab"], [role="radio"]') && (e.key === ' ' || e.key === 'Enter')) return;
  if (state.view === 'replay' && views.replay.now()?.handleKey(e)) { e.preventDefault(); return; }
  if (state.view === 'map' && views.map.now()?.handleKey(e)) { e.preventDefault(); return; }
  if (state.view === 'traces' && state.traceId && traceView.handleKey(e)) { e.preventDefault(); return; }
  const idx = ['1', '2', '3', '4', '5'].indexOf(e.key);
  if (idx >= 0) { setView(VIEWS[idx], { push: true }); e.preventDefault(); return; }
  switch (e.key) {
    case '/':
      e.preventDefault();
      setView('traces', { push: true });
      $('f-q').focus();
      break;
    case 'p': if (state.view === 'traces') togglePause(); break;
    case 't': cycleTheme(); break;
    case 'r': if (state.traceId) startReplay({ trace: state.traceId }, { push: true }); break;
    case 'Escape':
      if (state.view === 'traces' && state.traceId) { selectTrace(null, null, { push: true }); list.focus(); }
      break;
    default: return;
  }
});

// ---- Boot -----------------------------------------------------------------------

applyUrl();
renderConnection();
renderPending();
feed.start();
loadHistory();
header.start();
