// FlowScope dashboard entry point.
import { LiveFeed, fetchStats, isValidId } from './api.js';
import { TraceList } from './trace-list.js';
import { TraceView } from './trace-view.js';
import { formatCount, formatUptime } from './format.js';

const $ = (id) => document.getElementById(id);

const STATS_INTERVAL_MS = 3000;

const state = {
  paused: false,
  pending: new Map(), // traceId -> latest summary received while paused
  feedState: 'connecting',
  traceId: null,
  spanId: null,
};

const list = new TraceList({
  tbody: $('trace-rows'),
  emptyEl: $('list-empty'),
  countEl: $('count'),
  onSelect: (id) => selectTrace(id, null, { push: true }),
});

const view = new TraceView($('detail'), {
  onSpanSelect: (spanId) => {
    state.spanId = spanId;
    writeUrl({ push: false });
  },
  onOpenTrace: (traceId, spanId) => selectTrace(traceId, spanId, { push: true }),
  onClose: () => selectTrace(null, null, { push: true }),
});

// ---- URL state (deep links + back button) -------------------------------

function readUrl() {
  const params = new URLSearchParams(location.search);
  const trace = params.get('trace');
  const span = params.get('span');
  return {
    traceId: isValidId(trace) ? trace : null,
    spanId: isValidId(span) ? span : null,
    filter: params.get('filter') ?? '',
  };
}

function writeUrl({ push }) {
  const url = new URL(location.href);
  const p = url.searchParams;
  const set = (k, v) => (v ? p.set(k, v) : p.delete(k));
  set('trace', state.traceId);
  set('span', state.traceId ? state.spanId : null);
  set('filter', $('filter').value.trim());
  url.hash = '';
  if (url.href === location.href) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function applyUrl() {
  const { traceId, spanId, filter } = readUrl();
  if ($('filter').value !== filter) $('filter').value = filter;
  list.setFilter(filter);
  selectTrace(traceId, spanId, { push: false, fromUrl: true });
}

function selectTrace(traceId, spanId, { push, fromUrl = false }) {
  state.traceId = traceId || null;
  state.spanId = traceId ? spanId || null : null;
  list.setSelected(state.traceId);
  if (!fromUrl) writeUrl({ push });
  if (!state.traceId) {
    view.showEmpty();
    document.title = 'FlowScope';
    return;
  }
  const name = list.get(state.traceId)?.name;
  document.title = name ? `${name} · FlowScope` : 'FlowScope';
  view.show(state.traceId, state.spanId);
}

window.addEventListener('popstate', applyUrl);

document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || !state.traceId) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement) return;
  selectTrace(null, null, { push: true });
  list.focusSelected();
});

// ---- Filter ---------------------------------------------------------------

let filterTimer = 0;
$('filter').addEventListener('input', () => {
  list.setFilter($('filter').value);
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => writeUrl({ push: false }), 400);
});

// ---- Live feed + pause ----------------------------------------------------

function ingest(summaries, kind) {
  if (!summaries.length) return;
  if (state.paused) {
    for (const s of summaries) state.pending.set(s.traceId, s);
    renderPending();
    return;
  }
  apply(summaries, kind === 'hydrate');
}

function apply(summaries, force = false) {
  const changed = list.upsert(summaries, force);
  if (state.traceId && changed.has(state.traceId)) {
    view.refreshSoon();
    const name = list.get(state.traceId)?.name;
    if (name) document.title = `${name} · FlowScope`;
  }
}

function renderPending() {
  const el = $('pending');
  const n = state.pending.size;
  el.hidden = !state.paused;
  el.textContent = n === 0 ? 'no new traces' : `${formatCount(n)} update${n === 1 ? '' : 's'} waiting`;
}

$('pause').addEventListener('click', () => {
  state.paused = !state.paused;
  const btn = $('pause');
  btn.textContent = state.paused ? 'Resume' : 'Pause';
  btn.setAttribute('aria-pressed', String(state.paused));
  btn.classList.toggle('active', state.paused);
  if (!state.paused && state.pending.size) {
    const buffered = Array.from(state.pending.values());
    state.pending.clear();
    apply(buffered);
  }
  renderPending();
  renderConnection();
});

const CONN_LABELS = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'reconnecting… (polling)',
  paused: 'paused',
};

function renderConnection() {
  const shown = state.paused ? 'paused' : state.feedState;
  const conn = $('conn');
  conn.dataset.state = shown;
  $('conn-label').textContent = CONN_LABELS[shown] ?? shown;
  conn.title = state.paused ? `Paused (stream: ${CONN_LABELS[state.feedState] ?? state.feedState})` : 'Live update stream';
}

const feed = new LiveFeed({
  onTraces: (summaries, kind) => ingest(summaries, kind),
  onState: (s) => {
    state.feedState = s;
    renderConnection();
  },
});

// ---- Stats ----------------------------------------------------------------

let statsFailures = 0;

async function pollStats() {
  try {
    const s = await fetchStats();
    statsFailures = 0;
    renderStats(s);
  } catch {
    statsFailures++;
    if (statsFailures >= 2) $('stats').classList.add('stale');
  }
  setTimeout(pollStats, document.hidden ? STATS_INTERVAL_MS * 3 : STATS_INTERVAL_MS);
}

function renderStats(s) {
  $('stats').classList.remove('stale');
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const dropped = num(s.dropped);
  const evicted = num(s.evictedTraces);
  $('stat-captured').textContent = formatCount(s.captured);
  $('stat-dropped').textContent = formatCount(dropped);
  $('stat-evicted').textContent = formatCount(evicted);
  $('stat-stored').textContent = formatCount(s.storedTraces);
  $('stat-captured').parentElement.title = `Spans captured · uptime ${formatUptime(s.uptimeSeconds)} · ${formatCount(s.liveSubscribers)} live subscriber(s)`;
  $('stat-dropped-box').title = `${formatCount(s.dropped)} spans dropped (buffer full) · ${formatCount(s.rejected)} rejected · ${formatCount(s.failed ?? 0)} failed`;
  $('stat-evicted-box').title = `${formatCount(s.evictedTraces)} traces / ${formatCount(s.evictedSpans)} spans evicted`;
  $('stat-stored').parentElement.title = `${formatCount(s.storedTraces)} traces / ${formatCount(s.storedSpans)} spans stored · capacity ${formatCount(s.bufferCapacity)}`;
  $('stat-dropped-box').classList.toggle('warn', dropped > 0);
  $('stat-evicted-box').classList.toggle('warn', evicted > 0 || num(s.evictedSpans) > 0);

  const notice = $('notice');
  const parts = [];
  if (dropped > 0) parts.push(`${formatCount(dropped)} span${dropped === 1 ? '' : 's'} dropped`);
  if (evicted > 0 || num(s.evictedSpans) > 0) {
    parts.push(`${formatCount(evicted)} trace${evicted === 1 ? '' : 's'} evicted`);
  }
  if (parts.length) {
    notice.textContent = `⚠ ${parts.join(', ')} — the capture buffer (capacity ${formatCount(s.bufferCapacity)}) is discarding data.`;
    notice.hidden = false;
  } else {
    notice.hidden = true;
  }
}

// ---- Boot -----------------------------------------------------------------

applyUrl();
renderConnection();
renderPending();
feed.start();
pollStats();
