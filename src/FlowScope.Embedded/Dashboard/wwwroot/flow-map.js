// Flow map: the component graph as a layered SVG diagram (left to right),
// nodes coloured by component type, edges labelled with count, error rate and
// latency, live bubbles moving along the edges, zoom and pan.
import { h, svg } from './dom.js';
import { formatDuration, formatCount } from './format.js';

const NODE_W = 176;
const NODE_H = 46;
const COL_GAP = 118;
const ROW_GAP = 18;
const MAX_BUBBLES = 160;
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');

export class FlowMap {
  constructor(host, { onNodeClick, interactive = true } = {}) {
    this.host = host;
    this.onNodeClick = onNodeClick;
    this.map = { nodes: [], edges: [] };
    this.positions = new Map();
    this.edgeEls = new Map(); // "src\0dst" -> { path, g }
    this.nodeEls = new Map();
    this.bubbles = [];
    this.anim = 0;
    this.zoom = 1;
    this.pan = { x: 20, y: 20 };
    this.selected = null;
    this.signature = '';

    this.svg = svg('svg', { class: 'flow-svg', role: 'group', 'aria-label': 'Component flow map' });
    this.viewport = svg('g', { class: 'viewport' });
    this.edgeLayer = svg('g', { class: 'edges' });
    this.bubbleLayer = svg('g', { class: 'bubbles' });
    this.nodeLayer = svg('g', { class: 'nodes' });
    this.viewport.append(this.edgeLayer, this.nodeLayer, this.bubbleLayer);
    this.svg.append(svg('defs', null,
      svg('marker', { id: 'fs-arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }))), this.viewport);
    this.emptyEl = h('p', { class: 'empty map-empty', text: 'No components yet — send a request to the app.' });
    const zoomIn = h('button', { class: 'btn btn-small', type: 'button', title: 'Zoom in (+)', 'aria-label': 'Zoom in', onclick: () => this.zoomBy(1.2) }, '+');
    const zoomOut = h('button', { class: 'btn btn-small', type: 'button', title: 'Zoom out (-)', 'aria-label': 'Zoom out', onclick: () => this.zoomBy(1 / 1.2) }, '−');
    const fit = h('button', { class: 'btn btn-small', type: 'button', title: 'Fit to view (0)', onclick: () => this.fit() }, 'Fit');
    this.controls = h('div', { class: 'map-controls' }, zoomIn, zoomOut, fit);
    this.legend = h('div', { class: 'map-legend', 'aria-hidden': 'true' },
      ['server', 'middleware', 'endpoint', 'controller', 'worker', 'queue', 'http-client', 'database', 'simulator', 'custom']
        .map((c) => h('span', { class: 'legend-item' }, h('span', { class: 'swatch', dataset: { component: c } }), c)));
    host.replaceChildren(this.svg, this.emptyEl, interactive ? this.controls : null, this.legend);
    this.#wire(interactive);
    this.#applyTransform();
  }

  #wire(interactive) {
    if (!interactive) return;
    let drag = null;
    this.svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || e.target.closest('.node')) return;
      drag = { x: e.clientX, y: e.clientY, px: this.pan.x, py: this.pan.y };
      this.svg.setPointerCapture(e.pointerId);
      this.svg.classList.add('dragging');
    });
    this.svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.pan.x = drag.px + (e.clientX - drag.x);
      this.pan.y = drag.py + (e.clientY - drag.y);
      this.#applyTransform();
    });
    const end = () => { drag = null; this.svg.classList.remove('dragging'); };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);
    this.svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = this.svg.getBoundingClientRect();
      this.zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    this.svg.addEventListener('click', (e) => {
      const g = e.target.closest('.node');
      if (g) this.#select(g.dataset.id);
    });
    this.svg.addEventListener('keydown', (e) => {
      const g = e.target.closest?.('.node');
      if (g && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); this.#select(g.dataset.id); }
    });
  }

  #select(id) {
    this.selected = id;
    for (const [nid, el] of this.nodeEls) el.classList.toggle('selected', nid === id);
    this.onNodeClick?.(this.map.nodes.find((n) => n.id === id) ?? null, this.map);
  }

  handleKey(e) {
    if (e.key === '+' || e.key === '=') this.zoomBy(1.2);
    else if (e.key === '-') this.zoomBy(1 / 1.2);
    else if (e.key === '0') this.fit();
    else return false;
    return true;
  }

  zoomBy(f, cx, cy) {
    const r = this.svg.getBoundingClientRect();
    const x = cx ?? r.width / 2, y = cy ?? r.height / 2;
    const z = Math.min(4, Math.max(0.2, this.zoom * f));
    const k = z / this.zoom;
    this.pan.x = x - (x - this.pan.x) * k;
    this.pan.y = y - (y - this.pan.y) * k;
    this.zoom = z;
    this.#applyTransform();
  }

  fit() {
    const r = this.svg.getBoundingClientRect();
    if (!this.bounds || !r.width) return;
    const { w, h: ht } = this.bounds;
    const z = Math.min(1.4, Math.max(0.2, Math.min((r.width - 40) / w, (r.height - 60) / ht)));
    this.zoom = z;
    this.pan.x = (r.width - w * z) / 2;
    this.pan.y = Math.max(10, (r.height - ht * z) / 2);
    this.#applyTransform();
  }

  #applyTransform() {
    this.viewport.setAttribute('transform', `translate(${this.pan.x.toFixed(1)},${this.pan.y.toFixed(1)}) scale(${this.zoom.toFixed(3)})`);
  }

  // Replaces the graph. Layout is recomputed only when the set of nodes/edges changes.
  setData(map) {
    const nodes = Array.isArray(map?.nodes) ? map.nodes : [];
    const edges = (Array.isArray(map?.edges) ? map.edges : []).filter((e) => e.source !== e.target);
    this.map = { nodes, edges, overflow: map?.overflow ?? 0 };
    this.emptyEl.hidden = nodes.length > 0;
    const sig = nodes.map((n) => n.id).sort().join('\u0001') + '\u0002' + edges.map((e) => `${e.source}\u0000${e.target}`).sort().join('\u0001');
    if (sig !== this.signature) {
      const first = !this.signature;
      this.signature = sig;
      this.#layout(nodes, edges);
      this.#draw();
      if (first || this.autoFit) requestAnimationFrame(() => this.fit());
    } else this.#updateLabels();
  }

  #layout(nodes, edges) {
    const ids = new Set(nodes.map((n) => n.id));
    const incoming = new Map(), outgoing = new Map();
    for (const n of nodes) { incoming.set(n.id, []); outgoing.set(n.id, []); }
    for (const e of edges) {
      if (!ids.has(e.source) || !ids.has(e.target)) continue;
      outgoing.get(e.source).push(e.target);
      incoming.get(e.target).push(e.source);
    }
    // Longest-path layering over a DFS that ignores back edges (cycles).
    const layer = new Map();
    const state = new Map();
    const visit = (id, depth) => {
      if (state.get(id) === 1) return; // back edge
      if ((layer.get(id) ?? -1) >= depth) return;
      layer.set(id, depth);
      state.set(id, 1);
      for (const t of outgoing.get(id)) visit(t, depth + 1);
      state.set(id, 2);
    };
    const rank = (n) => ['simulator', 'server', 'middleware', 'endpoint', 'controller', 'worker', 'queue', 'custom', 'http-client', 'database'].indexOf(n.component);
    const roots = nodes.filter((n) => incoming.get(n.id).length === 0).sort((a, b) => rank(a) - rank(b));
    for (const r of roots) visit(r.id, 0);
    for (const n of nodes) if (!layer.has(n.id)) visit(n.id, 0);
    const columns = [];
    for (const n of nodes) {
      const l = Math.min(layer.get(n.id) ?? 0, 40);
      (columns[l] ??= []).push(n);
    }
    // Order within a column by the mean position of the predecessors (barycentre).
    const pos = new Map();
    columns.forEach((col, ci) => {
      if (!col) return;
      col.sort((a, b) => {
        const bc = (n) => {
          const preds = incoming.get(n.id).filter((p) => pos.has(p));
          return preds.length ? preds.reduce((s, p) => s + pos.get(p), 0) / preds.length : rank(n) + 0.001 * (n.count || 0);
        };
        return bc(a) - bc(b) || String(a.name).localeCompare(String(b.name));
      });
      col.forEach((n, i) => pos.set(n.id, i));
      void ci;
    });
    const maxRows = Math.max(1, ...columns.filter(Boolean).map((c) => c.length));
    const totalH = maxRows * (NODE_H + ROW_GAP);
    this.positions.clear();
    columns.forEach((col, ci) => {
      if (!col) return;
      const offset = (totalH - col.length * (NODE_H + ROW_GAP)) / 2;
      col.forEach((n, i) => this.positions.set(n.id, { x: ci * (NODE_W + COL_GAP), y: offset + i * (NODE_H + ROW_GAP) }));
    });
    this.bounds = { w: Math.max(1, columns.length) * (NODE_W + COL_GAP) - COL_GAP, h: totalH };
  }

  #draw() {
    this.edgeLayer.replaceChildren();
    this.nodeLayer.replaceChildren();
    this.edgeEls.clear();
    this.nodeEls.clear();
    for (const e of this.map.edges) {
      const a = this.positions.get(e.source), b = this.positions.get(e.target);
      if (!a || !b) continue;
      const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
      let d;
      if (x2 > x1) {
        const mx = (x1 + x2) / 2;
        d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
      } else {
        // Back edge (cycle): loop below the nodes.
        const low = Math.max(a.y, b.y) + NODE_H + 30;
        d = `M${a.x + NODE_W / 2},${a.y + NODE_H} C${a.x + NODE_W / 2},${low} ${b.x + NODE_W / 2},${low} ${b.x + NODE_W / 2},${b.y + NODE_H}`;
      }
      const path = svg('path', { d, class: 'edge-path', 'marker-end': 'url(#fs-arrow)' });
      const label = svg('text', { class: 'edge-label', 'text-anchor': 'middle' });
      const g = svg('g', { class: 'edge', dataset: { source: e.source, target: e.target } }, path, label);
      this.edgeLayer.append(g);
      this.edgeEls.set(`${e.source}\u0000${e.target}`, { g, path, label });
    }
    for (const n of this.map.nodes) {
      const p = this.positions.get(n.id);
      if (!p) continue;
      const name = svg('text', { class: 'node-name', x: 12, y: 19 });
      const stats = svg('text', { class: 'node-stats', x: 12, y: 36 });
      const g = svg('g', {
        class: 'node', tabindex: '0', role: 'button', transform: `translate(${p.x},${p.y})`,
        dataset: { id: n.id, component: n.component || 'custom' },
      },
      svg('rect', { class: 'node-box', width: NODE_W, height: NODE_H, rx: 7 }),
      svg('rect', { class: 'node-stripe', width: 5, height: NODE_H, rx: 2 }),
      svg('circle', { class: 'node-health', cx: NODE_W - 12, cy: 12, r: 4 }),
      name, stats, svg('title'));
      g.classList.toggle('selected', n.id === this.selected);
      this.nodeLayer.append(g);
      this.nodeEls.set(n.id, g);
    }
    this.#updateLabels();
  }

  #updateLabels() {
    const byId = new Map(this.map.nodes.map((n) => [n.id, n]));
    for (const [id, g] of this.nodeEls) {
      const n = byId.get(id);
      if (!n) continue;
      const [, , health, name, stats, title] = g.children;
      const label = `${n.name}`;
      name.textContent = label.length > 22 ? label.slice(0, 21) + '…' : label;
      const errRate = n.count ? n.errorCount / n.count : 0;
      stats.textContent = `${n.component} · ${formatCount(n.count)} · p50 ${formatDuration(n.p50Ms)}`;
      health.setAttribute('class', `node-health ${errRate >= 0.25 ? 'h-error' : errRate > 0 ? 'h-warn' : n.count ? 'h-ok' : 'h-idle'}`);
      title.textContent = `${n.component}: ${n.name}\n${formatCount(n.count)} calls, ${formatCount(n.errorCount)} errors, p50 ${formatDuration(n.p50Ms)}, p95 ${formatDuration(n.p95Ms)}`;
      g.setAttribute('aria-label', `${n.component} ${n.name}: ${n.count} calls, ${n.errorCount} errors`);
    }
    for (const e of this.map.edges) {
      const el = this.edgeEls.get(`${e.source}\u0000${e.target}`);
      if (!el) continue;
      const len = el.path.getTotalLength?.() || 0;
      // Midway, where fanned-out edges are half a row apart.
      const mid = len ? el.path.getPointAtLength(len * 0.5) : { x: 0, y: 0 };
      el.label.setAttribute('x', mid.x.toFixed(1));
      el.label.setAttribute('y', (mid.y - 5).toFixed(1));
      const er = e.count ? (e.errorCount / e.count) * 100 : 0;
      el.label.textContent = `${formatCount(e.count)} · ${er ? er.toFixed(er < 10 ? 1 : 0) + '% err' : '0% err'} · ${formatDuration(e.p50Ms)}`;
      el.g.classList.toggle('has-errors', e.errorCount > 0);
      el.path.style.strokeWidth = `${Math.min(5, 1.2 + Math.log10(1 + e.count))}`;
    }
  }

  // Highlights nodes (a Set of ids) and optionally one edge; null clears.
  highlight(nodeIds, edge = null) {
    for (const [id, g] of this.nodeEls) {
      g.classList.toggle('hl', !!nodeIds?.has(id));
      g.classList.toggle('dim', !!nodeIds && !nodeIds.has(id));
    }
    for (const [key, el] of this.edgeEls) {
      el.g.classList.toggle('hl', !!edge && key === `${edge.source}\u0000${edge.target}`);
    }
  }

  // Sends a bubble along the edge source → target (if drawn).
  bubble(sourceId, targetId, { error = false, delay = 0, duration = 900 } = {}) {
    const el = this.edgeEls.get(`${sourceId}\u0000${targetId}`);
    if (!el || this.bubbles.length >= MAX_BUBBLES || document.hidden || reducedMotion.matches) return false;
    const dot = svg('circle', { class: `bubble${error ? ' bubble-error' : ''}`, r: 5 });
    dot.style.opacity = '0';
    this.bubbleLayer.append(dot);
    this.bubbles.push({ dot, path: el.path, len: el.path.getTotalLength(), start: performance.now() + delay, duration });
    if (!this.anim) this.anim = requestAnimationFrame((t) => this.#tick(t));
    return true;
  }

  // A trace changed: bubbles along the edges between the components it touched.
  pulseTrace(summary) {
    const comps = new Set(Array.isArray(summary?.components) ? summary.components : []);
    if (!comps.size) return;
    const depth = new Map();
    for (const [id, p] of this.positions) depth.set(id, Math.round(p.x / (NODE_W + COL_GAP)));
    let sent = 0;
    const compOf = (id) => id.slice(0, id.indexOf(':'));
    for (const e of this.map.edges) {
      if (sent >= 8) break;
      if (!comps.has(compOf(e.source)) || !comps.has(compOf(e.target))) continue;
      if (this.bubble(e.source, e.target, { error: summary.status === 'error', delay: (depth.get(e.source) || 0) * 220 })) sent++;
    }
  }

  #tick(now) {
    this.bubbles = this.bubbles.filter((b) => {
      const t = (now - b.start) / b.duration;
      if (t < 0) return true;
      if (t >= 1) { b.dot.remove(); return false; }
      const p = b.path.getPointAtLength(b.len * t);
      b.dot.setAttribute('cx', p.x.toFixed(1));
      b.dot.setAttribute('cy', p.y.toFixed(1));
      b.dot.style.opacity = String(t < 0.1 ? t * 10 : t > 0.9 ? (1 - t) * 10 : 1);
      return true;
    });
    this.anim = this.bubbles.length ? requestAnimationFrame((t) => this.#tick(t)) : 0;
  }
}
