// Trace model helpers shared by the views, and the data source (live server or an imported file).
import { fetchTrace, HttpError } from './api.js';
import { parseTime, formatDateTime } from './format.js';

export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 5];

// The kind of work a root span stands for (as the server's TraceKinds decides).
export function kindOf(span) {
  const a = span?.attributes || {};
  switch (span?.component) {
    case 'server':
      if (span.kind !== 'server') return 'other';
      if (a['flowscope.connection'] || String(a['http.response.status_code']) === '101') return 'connection';
      return a['http.request.method'] ? 'http' : 'message';
    case 'queue': return 'message';
    case 'worker': return 'worker';
    case 'simulator': return 'simulator';
    default: return 'other';
  }
}

// Builds a forest from spans in any order. Spans whose parent is missing (or
// that sit in a parent cycle) become roots. Children are sorted by start time.
export function buildTree(spans) {
  const nodes = new Map();
  for (const span of spans) {
    if (!span || typeof span.spanId !== 'string' || nodes.has(span.spanId)) continue;
    const start = parseTime(span.startTime);
    const dur = Math.max(Number(span.durationMs) || 0, 0);
    nodes.set(span.spanId, { span, start, end: start + dur, dur, children: [], parent: null, depth: 0, self: dur, critical: false });
  }
  const roots = [];
  for (const node of nodes.values()) {
    const pid = node.span.parentSpanId;
    const parent = pid && pid !== node.span.spanId ? nodes.get(pid) : null;
    if (parent) { parent.children.push(node); node.parent = parent; } else roots.push(node);
  }
  const byStart = (a, b) => (a.start || 0) - (b.start || 0) || String(a.span.name).localeCompare(String(b.span.name));
  const order = [];
  const seen = new Set();
  const walk = (list, depth) => {
    list.sort(byStart);
    for (const node of list) {
      if (seen.has(node)) continue;
      seen.add(node);
      node.depth = depth;
      order.push(node);
      walk(node.children, depth + 1);
    }
  };
  walk(roots, 0);
  for (const node of nodes.values()) {
    if (!seen.has(node)) { node.parent = null; roots.push(node); walk([node], 0); }
  }
  for (const node of nodes.values()) node.self = selfTime(node);
  markCriticalPath(roots);
  return { nodes, roots, order };
}

// Self time: as the instrumentation measured it (pipeline stages: selfTimeMs),
// otherwise its duration minus the union of its children's intervals.
function selfTime(node) {
  const measured = node.span.selfTimeMs;
  if (Number.isFinite(measured) && measured >= 0) return measured;
  if (!node.children.length || !Number.isFinite(node.start)) return node.dur;
  const iv = node.children
    .filter((c) => Number.isFinite(c.start))
    .map((c) => [Math.max(c.start, node.start), Math.min(c.end, node.end)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0, curA = -Infinity, curB = -Infinity;
  for (const [a, b] of iv) {
    if (a > curB) { if (curB > curA) covered += curB - curA; curA = a; curB = b; } else curB = Math.max(curB, b);
  }
  if (curB > curA) covered += curB - curA;
  return Math.max(node.dur - covered, 0);
}

// Critical path: from the longest root, repeatedly follow the child that ends
// last, then the children that finish before that one starts.
function markCriticalPath(roots) {
  if (!roots.length) return;
  const root = roots.reduce((a, b) => (b.dur > a.dur ? b : a));
  const visit = (node, guard) => {
    if (guard.has(node)) return;
    guard.add(node);
    node.critical = true;
    let cursor = node.end;
    const kids = node.children.filter((c) => Number.isFinite(c.end)).sort((a, b) => b.end - a.end);
    for (const child of kids) {
      if (child.end <= cursor + 1e-6) {
        visit(child, guard);
        cursor = child.start;
      }
    }
  };
  visit(root, new Set());
}

// The flow-map node a span belongs to (mirrors the server's component map).
export function nodeOf(span) {
  const a = span.attributes || {};
  const c = span.component || 'custom';
  let name;
  switch (c) {
    case 'server': name = 'server'; break;
    case 'queue': name = a['messaging.destination.name'] ?? span.name; break;
    case 'http-client': name = a['server.address'] ?? hostOf(a['url.full']) ?? span.name; break;
    case 'database': name = a['db.namespace'] ?? a['db.system.name'] ?? a['db.system'] ?? span.name; break;
    case 'worker': name = a['flowscope.worker.name'] ?? span.name; break;
    case 'custom': name = span.source && !String(span.source).startsWith('FlowScope') ? span.source : span.name; break;
    default: name = span.name;
  }
  return `${c}:${name}`;
}

function hostOf(url) {
  try { return url ? new URL(url).host : null; } catch { return null; }
}

// The component map of a set of spans (imported data, replay of one trace).
export function mapFromSpans(spans) {
  const nodes = new Map();
  const edges = new Map();
  const spanNode = new Map();
  for (const s of spans) {
    const id = nodeOf(s);
    spanNode.set(s.spanId, id);
    let n = nodes.get(id);
    if (!n) {
      const i = id.indexOf(':');
      n = { id, component: id.slice(0, i), name: id.slice(i + 1), count: 0, errorCount: 0, durations: [], selfTimes: [] };
      nodes.set(id, n);
    }
    n.count++;
    if (s.status === 'error') n.errorCount++;
    n.durations.push(Number(s.durationMs) || 0);
    if (Number.isFinite(s.selfTimeMs)) n.selfTimes.push(s.selfTimeMs);
  }
  for (const s of spans) {
    const from = s.parentSpanId && spanNode.get(s.parentSpanId);
    const to = spanNode.get(s.spanId);
    if (!from || from === to) continue;
    const key = `${from}\u0000${to}`;
    let e = edges.get(key);
    if (!e) { e = { source: from, target: to, count: 0, errorCount: 0, durations: [] }; edges.set(key, e); }
    e.count++;
    if (s.status === 'error') e.errorCount++;
    e.durations.push(Number(s.durationMs) || 0);
  }
  const pct = (arr, p) => {
    if (!arr.length) return 0;
    const s = arr.slice().sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p * s.length))];
  };
  return {
    nodes: [...nodes.values()].map((n) => ({
      id: n.id, component: n.component, name: n.name, count: n.count, errorCount: n.errorCount,
      p50Ms: pct(n.durations, 0.5), p95Ms: pct(n.durations, 0.95), ratePerSecond: 0, selfTimeP50Ms: pct(n.selfTimes, 0.5),
    })),
    edges: [...edges.values()].map((e) => ({
      source: e.source, target: e.target, count: e.count, errorCount: e.errorCount, p50Ms: pct(e.durations, 0.5), p95Ms: pct(e.durations, 0.95),
    })),
    overflow: 0,
  };
}

// A summary like the server's, computed from a trace's spans.
export function summarize(traceId, spans, version = 0) {
  const tree = buildTree(spans);
  let t0 = Infinity, t1 = -Infinity, errors = 0;
  const components = new Set();
  for (const n of tree.nodes.values()) {
    if (Number.isFinite(n.start)) { t0 = Math.min(t0, n.start); t1 = Math.max(t1, n.end); }
    if (n.span.status === 'error') errors++;
    if (n.span.component) components.add(n.span.component);
  }
  const root = tree.roots.find((r) => r.span.component === 'server') ?? tree.roots[0];
  const a = root?.span.attributes || {};
  const count = (v) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : 0);
  const status = errors > 0 ? 'error' : 'ok';
  return {
    traceId,
    name: root ? String(root.span.name ?? '') : '(empty)',
    startTime: Number.isFinite(t0) ? new Date(t0).toISOString() : null,
    durationMs: Number.isFinite(t0) ? t1 - t0 : 0,
    status,
    spanCount: tree.nodes.size,
    errorCount: errors,
    rejectedSpanCount: 0,
    components: [...components],
    instance: root?.span.instance ?? null,
    route: a['http.route'] ?? null,
    method: a['http.request.method'] ?? null,
    statusCode: a['http.response.status_code'] != null ? Number(a['http.response.status_code']) : null,
    version,
    kind: root ? kindOf(root.span) : 'other',
    routine: false,
    databaseCount: count(a['flowscope.db.count']),
    nPlusOne: count(a['flowscope.db.n_plus_one']),
    duplicateQueries: count(a['flowscope.db.duplicates']),
  };
}

// Does any text of the span contain `needle` (lower case)?
export function spanMatches(span, needle) {
  if (!needle) return false;
  const has = (v) => v != null && String(v).toLowerCase().includes(needle);
  if (has(span.name) || has(span.statusMessage) || has(span.spanId) || has(span.component)) return true;
  for (const [k, v] of Object.entries(span.attributes || {})) if (has(k) || has(v)) return true;
  for (const ev of span.events || []) {
    if (has(ev?.name)) return true;
    for (const v of Object.values(ev?.attributes || {})) if (has(v)) return true;
  }
  return false;
}

// ---- Data source: the live server or an imported file ----------------------

const listeners = new Set();

export const source = {
  mode: 'live',
  importName: '',
  imported: new Map(), // traceId -> { traceId, summary, spans }

  onChange(fn) { listeners.add(fn); },

  setImported(name, traces) {
    this.mode = 'imported';
    this.importName = name;
    this.imported = traces;
    for (const fn of listeners) fn();
  },

  backToLive() {
    this.mode = 'live';
    this.importName = '';
    this.imported = new Map();
    for (const fn of listeners) fn();
  },

  get isImported() { return this.mode === 'imported'; },

  async loadTrace(traceId, signal) {
    if (this.mode === 'imported') {
      const t = this.imported.get(traceId);
      if (!t) throw new HttpError(404, 'Not Found', 'This trace is not part of the imported file.');
      return t;
    }
    return fetchTrace(traceId, signal);
  },
};

// What the header shows of an imported file.
export function importedFigures(src) {
  let spans = 0, errors = 0, clientErrors = 0, first = Infinity, last = -Infinity;
  for (const t of src.imported.values()) {
    spans += t.spans.length;
    if (t.summary.status === 'error') errors++;
    if (t.summary.statusCode >= 400 && t.summary.statusCode < 500) clientErrors++;
    const at = parseTime(t.summary.startTime);
    if (Number.isFinite(at)) { first = Math.min(first, at); last = Math.max(last, at); }
  }
  return {
    name: src.importName, traces: src.imported.size, spans, errors, clientErrors,
    from: Number.isFinite(first) ? formatDateTime(first) : '–', to: Number.isFinite(last) ? formatDateTime(last) : '–',
  };
}

// Loads many traces with bounded concurrency; failures (evicted traces) are skipped.
export async function loadTraces(ids, { signal, concurrency = 6, onProgress } = {}) {
  const out = new Array(ids.length);
  let next = 0, done = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      try { out[i] = await source.loadTrace(ids[i], signal); } catch (err) { if (signal?.aborted) throw err; out[i] = null; }
      done++;
      onProgress?.(done, ids.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return out.filter(Boolean);
}
