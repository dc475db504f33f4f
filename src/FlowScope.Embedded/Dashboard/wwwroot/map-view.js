// Flow map view: the live component map (api/map, or the imported traces),
// bubbles for arriving traces and a card for the clicked node.
import { h, componentTag } from './dom.js';
import { fetchMap } from './api.js';
import { FlowMap } from './flow-map.js';
import { source, mapFromSpans } from './model.js';
import { formatDuration, formatCount, formatClock, parseTime } from './format.js';

const MAP_INTERVAL_MS = 2000;

export class MapView {
  constructor({ host, card, getMetrics, onShowTraces }) {
    this.card = card;
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
        this.map.setData(await fetchMap());
      }
      if (this.node) {
        this.node = this.map.map.nodes.find((n) => n.id === this.node.id) ?? this.node;
        this.renderCard();
      }
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
        h('p', { class: 'muted small', text: 'Click a node (or focus it and press Enter) to see its card. Drag to pan, scroll or +/− to zoom, 0 to fit.' }),
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
    const extra = [];
    if (n.component === 'queue') {
      const q = (metrics.queues || []).find((x) => x?.name === n.name);
      extra.push(h('h4', { text: 'Queue' }), q ? kv(objectRows(q, ['name'])) : h('p', { class: 'muted small', text: 'No queue metrics reported for this queue yet.' }));
    }
    if (n.component === 'worker') {
      const w = (metrics.workers || []).find((x) => x?.name === n.name);
      extra.push(h('h4', { text: 'Worker' }), w ? kv(objectRows(w, ['name'])) : h('p', { class: 'muted small', text: 'No worker metrics reported for this worker yet.' }));
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

  #summaryList() {
    const metrics = this.getMetrics?.() ?? {};
    const parts = [];
    const queues = Array.isArray(metrics.queues) ? metrics.queues : [];
    const workers = Array.isArray(metrics.workers) ? metrics.workers : [];
    if (queues.length) {
      parts.push(h('h4', { text: 'Queues' }));
      for (const q of queues) parts.push(h('div', { class: 'mini-card', dataset: { component: 'queue' } }, h('strong', { text: String(q.name ?? 'queue') }), kv(objectRows(q, ['name']))));
    }
    if (workers.length) {
      parts.push(h('h4', { text: 'Workers' }));
      for (const w of workers) parts.push(h('div', { class: 'mini-card', dataset: { component: 'worker' } }, h('strong', { text: String(w.name ?? 'worker') }), kv(objectRows(w, ['name']))));
    }
    if (this.map.map.overflow) parts.push(h('p', { class: 'muted small', text: `${formatCount(this.map.map.overflow)} calls not drawn (map size limit).` }));
    return h('div', null, parts);
  }
}

function kv(rows) {
  return h('dl', { class: 'kv' }, rows.map(([k, v]) => h('div', null, h('dt', { text: k }), h('dd', { text: v }))));
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
