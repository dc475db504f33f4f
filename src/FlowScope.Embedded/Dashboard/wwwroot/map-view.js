// Flow map view: the live component map (api/map, or the imported traces),
// bubbles for arriving traces and a card for the clicked node.
import { h, componentTag } from './dom.js';
import { fetchMap, fetchRoutes } from './api.js';
import { FlowMap } from './flow-map.js';
import { source, mapFromSpans } from './model.js';
import { formatDuration, formatCount, formatClock, parseTime } from './format.js';

const MAP_INTERVAL_MS = 2000;

export class MapView {
  constructor({ host, card, getMetrics, onShowTraces, onOpenTrace }) {
    this.card = card;
    this.onOpenTrace = onOpenTrace;
    this.getMetrics = getMetrics;
    this.onShowTraces = onShowTraces;
    this.active = false;
    this.timer = 0;
    this.node = null;
    this.map = new FlowMap(host, { onNodeClick: (node) => { this.node = node; this.renderCard(); } });
    this.renderCard();
  }

  activate() {
    this.active = true;
    this.refresh();
  }

  deactivate() {
    this.active = false;
    clearTimeout(this.timer);
  }

  async refresh() {
    clearTimeout(this.timer);
    if (!this.active) return;
    try {
      if (source.isImported) {
        const spans = [...source.imported.values()].flatMap((t) => t.spans);
        this.map.setData(mapFromSpans(spans));
      } else {
        const [map, routes] = await Promise.all([fetchMap(), fetchRoutes().catch(() => null)]);
        this.map.setData(map);
        this.routes = routes;
      }
      if (this.node) this.node = this.map.map.nodes.find((n) => n.id === this.node.id) ?? this.node;
      // Keep the card current, but never pull it away from under the keyboard focus.
      if (!this.card.contains(document.activeElement)) this.renderCard();
    } catch {
      // transient; keep the last map
    }
    if (this.active && !source.isImported) this.timer = setTimeout(() => this.refresh(), MAP_INTERVAL_MS);
  }

  onTraces(summaries) {
    if (!this.active || source.isImported) return;
    for (const s of summaries.slice(0, 20)) this.map.pulseTrace(s);
  }

  handleKey(e) { return this.active && this.map.handleKey(e); }

  renderCard() {
    const n = this.node;
    if (!n) {
      this.card.replaceChildren(
        h('h3', { text: 'Components' }),
        h('p', { class: 'muted small', text: 'Click a node (or focus it and press Enter) to see its card. Drag to pan, scroll or +/− to zoom, 0 to fit, X to expand the pipeline.' }),
        this.#summaryList());
      return;
    }
    const metrics = this.getMetrics?.() ?? {};
    const rows = [
      ['Calls', formatCount(n.count)],
      ['Errors', `${formatCount(n.errorCount)}${n.count ? ` (${((n.errorCount / n.count) * 100).toFixed(1)}%)` : ''}`],
      ['Rate', `${(n.ratePerSecond ?? 0).toFixed(2)} /s`],
      ['Latency p50', formatDuration(n.p50Ms)],
      ['Latency p95', formatDuration(n.p95Ms)],
    ];
    if (['middleware', 'endpoint', 'controller'].includes(n.component) || n.selfTimeP50Ms > 0) rows.push(['Self time p50', formatDuration(n.selfTimeP50Ms)]);
    if (n.route) rows.push(['Route', n.route]);
    if (n.inner?.length) rows.push(['Stages', n.inner.join(', ')]);
    const extra = [];
    if (n.folded) {
      extra.push(h('h4', { text: 'Middleware, in order' }), h('ol', { class: 'chain-list' }, n.folded.map((m) => h('li', null,
        h('span', { text: m.name }),
        h('span', { class: 'muted', text: ` · self p50 ${formatDuration(m.selfTimeP50Ms)}${m.errorCount ? ` · ${formatCount(m.errorCount)} err` : ''}` })))),
      h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.map.setExpanded(true) }, 'Expand pipeline'));
    }
    const route = this.#routeOf(n, metrics);
    if (route) extra.push(h('h4', { text: 'Database' }), kv([
      ['Queries / request', `${route.queriesPerRequest} (max ${formatCount(route.maxQueriesPerRequest)})`],
      ['N+1 requests', formatCount(route.nPlusOneRequests)],
      ['Duplicate queries', formatCount(route.duplicateQueries)],
    ]));
    if (n.component === 'queue') {
      const q = (metrics.queues || []).find((x) => x?.name === n.name);
      extra.push(h('h4', { text: 'Queue' }), q ? this.#queueCard(q) : h('p', { class: 'muted small', text: 'No queue metrics reported for this queue.' }));
    }
    if (n.component === 'worker') {
      const w = (metrics.workers || []).find((x) => x?.name === n.name);
      extra.push(h('h4', { text: 'Worker' }), w ? this.#workerCard(w) : h('p', { class: 'muted small', text: 'No worker metrics reported for this worker.' }));
    }
    const inEdges = this.map.map.edges.filter((e) => e.target === n.id);
    const outEdges = this.map.map.edges.filter((e) => e.source === n.id);
    const edgeList = (title, list, key) => list.length ? [h('h4', { text: title }), h('ul', { class: 'edge-list' }, list.map((e) =>
      h('li', null, h('span', { text: e[key].slice(e[key].indexOf(':') + 1) }), h('span', { class: 'muted', text: ` ${formatCount(e.count)} · p50 ${formatDuration(e.p50Ms)}${e.errorCount ? ` · ${formatCount(e.errorCount)} err` : ''}` }))))] : [];
    this.card.replaceChildren(
      h('div', { class: 'card-title' }, h('h3', { text: n.name }), componentTag(n.component)),
      kv(rows),
      ...extra,
      ...edgeList('Called from', inEdges, 'source'),
      ...edgeList('Calls', outEdges, 'target'),
      h('div', { class: 'card-actions' },
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.onShowTraces?.(n) }, 'Show traces'),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => { this.node = null; this.renderCard(); } }, 'Close')));
  }

  // Queue card: depth, rates, wait time, retries and dead letters (api/metrics "queues").
  #queueCard(q) {
    if (!hasKnownFields(q, ['depth', 'enqueued', 'deadLettered'])) return kv(objectRows(q, ['name']));
    const n = (v) => formatCount(Number(v) || 0);
    const rows = [
      ['Depth', `${n(q.depth)}${q.capacity ? ` / ${n(q.capacity)}` : ''}`],
      ['In flight', n(q.inFlight)],
      ['Rates', `${(Number(q.enqueueRatePerSecond) || 0).toFixed(2)} in/s · ${(Number(q.dequeueRatePerSecond) || 0).toFixed(2)} out/s`],
      ['Wait p50 / p95', `${formatDuration(Number(q.waitP50Ms) || 0)} / ${formatDuration(Number(q.waitP95Ms) || 0)}`],
      ['Enqueued', n(q.enqueued)],
      ['Succeeded', n(q.succeeded)],
      ['Retries', `${n(q.retries)}${q.pendingRetries ? ` (${n(q.pendingRetries)} pending)` : ''}`],
      ['Dead letters', n(q.deadLettered)],
      ['Rejected', n(q.rejected)],
    ];
    if (q.messageType) rows.push(['Message', String(q.messageType)]);
    const dl = Array.isArray(q.deadLetters) ? q.deadLetters.slice(0, 5) : [];
    return h('div', null, kv(rows), dl.length ? h('ul', { class: 'dead-letters' }, dl.map((d) => h('li', null,
      h('span', { class: 'error-text', text: `${d?.errorType ?? 'Error'}: ${d?.error ?? ''}` }),
      h('span', { class: 'muted', text: ` · ${formatCount(Number(d?.attempts) || 0)} attempts · ${formatClock(parseTime(d?.deadLetteredAt))}` }),
      d?.traceId && this.onOpenTrace ? h('button', { class: 'link-btn', type: 'button', onclick: () => this.onOpenTrace(String(d.traceId)) }, ' trace') : null))) : null);
  }

  // Worker card: state, last run, runs and errors (api/metrics "workers").
  #workerCard(w) {
    if (!hasKnownFields(w, ['state'])) return kv(objectRows(w, ['name']));
    const state = String(w.state ?? 'unknown');
    const rows = [
      ['State', h('span', { class: `state state-${state}`, text: state })],
      ['Since', formatClock(parseTime(w.stateChangedAt))],
      ['Last run', w.lastRunAt ? formatClock(parseTime(w.lastRunAt)) : '—'],
      ['Runs', formatCount(Number(w.runs) || 0)],
      ['In flight', formatCount(Number(w.inFlight) || 0)],
      ['Errors', formatCount(Number(w.errors) || 0)],
    ];
    if (w.type) rows.push(['Type', String(w.type)]);
    if (w.lastError) rows.push(['Last error', h('span', { class: 'error-text', text: String(w.lastError), title: String(w.lastErrorDetail ?? '') })]);
    return kv(rows);
  }

  // The metrics' route figures of an endpoint or action node.
  #routeOf(n, metrics) {
    const routes = Array.isArray(metrics?.routes) ? metrics.routes : [];
    const template = n.route ?? (n.component === 'endpoint' ? n.name : null);
    if (!template) return null;
    // An endpoint node is named "GET /todos/" (method and route), as the metrics name a route; older names are the template alone.
    return routes.find((r) => String(r.route) === template || String(r.route).endsWith(` ${template}`)) ?? null;
  }

  #summaryList() {
    const metrics = this.getMetrics?.() ?? {};
    const parts = [];
    const routes = (Array.isArray(metrics.routes) ? metrics.routes : []).filter((r) => r.databaseCommands > 0).slice(0, 12);
    if (routes.length) {
      parts.push(h('h4', { text: 'Queries per request, by route' }), h('table', { class: 'route-table queries-table' },
        h('thead', null, h('tr', null, ['Route', 'Req', 'Queries/req', 'Max', 'N+1'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, routes.map((r) => h('tr', { class: r.nPlusOneRequests ? 'has-nplus' : null },
          h('td', { text: r.route, title: r.route }),
          h('td', { class: 'num', text: formatCount(r.requests) }),
          h('td', { class: 'num', text: String(r.queriesPerRequest) }),
          h('td', { class: 'num', text: formatCount(r.maxQueriesPerRequest) }),
          h('td', { class: 'num', text: r.nPlusOneRequests ? formatCount(r.nPlusOneRequests) : '–' }))))));
    }
    const kept = Array.isArray(this.routes?.routes) ? this.routes.routes.slice(0, 12) : [];
    if (kept.length && !source.isImported) {
      parts.push(h('h4', { text: 'Seen and kept, by route' }), h('table', { class: 'route-table kept-table' },
        h('thead', null, h('tr', null, [['Route'], ['Seen', 'Traces of the route since the app started'], ['Kept', 'Traces of the route the store holds now'],
          ['Err', 'Kept for an error'], ['Slow', 'Kept as slow outliers'], ['Sample', 'Kept as the route\'s sample']]
          .map(([t, title]) => h('th', { scope: 'col', text: t, title })))),
        h('tbody', null, kept.map((r) => h('tr', null,
          h('td', { text: r.route, title: r.route }),
          h('td', { class: 'num', text: formatCount(r.seen) }),
          h('td', { class: 'num', text: formatCount(r.kept) }),
          h('td', { class: 'num', text: r.keptForError ? formatCount(r.keptForError) : '–' }),
          h('td', { class: 'num', text: r.keptAsSlow ? formatCount(r.keptAsSlow) : '–' }),
          h('td', { class: 'num', text: r.keptAsSample ? formatCount(r.keptAsSample) : '–' }))))));
      if (this.routes.tracked > kept.length) parts.push(h('p', { class: 'muted small', text: `The ${kept.length} busiest of ${formatCount(this.routes.tracked)} routes.` }));
    }
    const queues = Array.isArray(metrics.queues) ? metrics.queues : [];
    const workers = Array.isArray(metrics.workers) ? metrics.workers : [];
    if (queues.length) {
      parts.push(h('h4', { text: 'Queues' }));
      for (const q of queues) parts.push(h('div', { class: 'mini-card queue-card', dataset: { component: 'queue', name: String(q.name ?? '') } }, h('strong', { text: String(q.name ?? 'queue') }), this.#queueCard(q)));
    }
    if (workers.length) {
      parts.push(h('h4', { text: 'Workers' }));
      for (const w of workers) parts.push(h('div', { class: 'mini-card worker-card', dataset: { component: 'worker', name: String(w.name ?? '') } }, h('strong', { text: String(w.name ?? 'worker') }), this.#workerCard(w)));
    }
    if (this.map.map.overflow) parts.push(h('p', { class: 'muted small', text: `${formatCount(this.map.map.overflow)} calls not drawn (map size limit).` }));
    return h('div', null, parts);
  }
}

function kv(rows) {
  return h('dl', { class: 'kv' }, rows.map(([k, v]) => h('div', null, h('dt', { text: k }), v instanceof Node ? h('dd', null, v) : h('dd', { text: v }))));
}

function hasKnownFields(obj, keys) {
  return obj && typeof obj === 'object' && keys.every((k) => k in obj);
}

// Generic rendering of a metrics object from the server (queues/workers).
function objectRows(obj, skip) {
  return Object.entries(obj).filter(([k, v]) => !skip.includes(k) && v != null && typeof v !== 'object').map(([k, v]) => {
    const label = k.replace(/([A-Z])/g, ' $1').toLowerCase();
    if (typeof v === 'number') {
      if (/ms$/i.test(k)) return [label.replace(/ ms$/, ''), formatDuration(v)];
      if (/rate/i.test(k) && v <= 1 && /error/i.test(k)) return [label, `${(v * 100).toFixed(1)}%`];
      return [label, Number.isInteger(v) ? formatCount(v) : v.toFixed(2)];
    }
    if (typeof v === 'string' && /(At|Time)$/.test(k) && Number.isFinite(parseTime(v))) return [label, formatClock(parseTime(v))];
    return [label, String(v)];
  });
}
