// Flow map: the component graph as a layered SVG diagram (left to right),
// nodes coloured by component type, edges labelled with count, error rate and
// latency, live bubbles moving along the edges, zoom and pan. The middleware
// chain is one pipeline node until expanded. Text never shrinks below 11 px:
// Fit zooms out only that far (pan for the rest); full names show on hover and
// focus.
import { h, svg } from './dom.js';
import { formatDuration, formatCount } from './format.js';
import { foldMap, layout, NODE_W, NODE_H, PIPELINE_ID } from './map-layout.js';

const MAX_BUBBLES = 160;
const TEXT_PX = 13; // every text of the map, at zoom 1
export const MIN_TEXT_PX = 11;
const MIN_ZOOM = (MIN_TEXT_PX + 0.05) / TEXT_PX;
const NAME_PX = NODE_W - 34; // room for a node's name: its width less the stripe, padding and health dot
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');

export class FlowMap {
  constructor(host, { onNodeClick, interactive = true, fold = true } = {}) {
    this.host = host;
    this.onNodeClick = onNodeClick;
    this.fold = fold;
    this.expanded = false;
    this.map = { nodes: [], edges: [] };
    this.source = { nodes: [], edges: [] };
    this.alias = new Map();
    this.positions = new Map();
    this.edgeEls = new Map(); // "src\0dst" -> { path, g, label }
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
    // Edge labels above the nodes: shown for the edges of the node under the pointer, focused or selected.
    this.labelLayer = svg('g', { class: 'edge-labels' });
    this.viewport.append(this.edgeLayer, this.nodeLayer, this.labelLayer, this.bubbleLayer);
    this.svg.append(svg('defs', null,
      svg('marker', { id: 'fs-arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '9', markerHeight: '9', markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }))), this.viewport);
    this.emptyEl = h('p', { class: 'empty map-empty', text: 'No components yet — send a request to the app.' });
    this.tip = h('div', { class: 'map-tip', role: 'tooltip', id: `map-tip-${Math.random().toString(36).slice(2, 8)}`, hidden: true });
    this.clipNote = h('p', { class: 'map-clip muted small', hidden: true, text: 'Part of the map is outside the view (text stays readable): drag to pan.' });
    const zoomIn = h('button', { class: 'btn btn-small', type: 'button', title: 'Zoom in (+)', 'aria-label': 'Zoom in', onclick: () => this.zoomBy(1.2) }, '+');
    const zoomOut = h('button', { class: 'btn btn-small', type: 'button', title: 'Zoom out (-)', 'aria-label': 'Zoom out', onclick: () => this.zoomBy(1 / 1.2) }, '−');
    const fit = h('button', { class: 'btn btn-small', type: 'button', title: 'Fit to view (0)', onclick: () => this.fit() }, 'Fit');
    this.expandBtn = h('button', { class: 'btn btn-small', type: 'button', 'aria-pressed': 'false', title: 'Show every middleware and MVC stage (X)', onclick: () => this.setExpanded(!this.expanded) }, 'Expand pipeline');
    this.controls = h('div', { class: 'map-controls' }, zoomIn, zoomOut, fit, fold ? this.expandBtn : null);
    this.legend = h('div', { class: 'map-legend', 'aria-hidden': 'true' },
      ['server', 'middleware', 'endpoint', 'controller', 'signalr', 'grpc', 'worker', 'queue', 'http-client', 'database', 'simulator', 'custom']
        .map((c) => h('span', { class: 'legend-item' }, h('span', { class: 'swatch', dataset: { component: c } }), c)));
    host.replaceChildren(this.svg, this.emptyEl, interactive ? this.controls : null, this.legend, this.tip, this.clipNote);
    this.#wire(interactive);
    this.#applyTransform();
  }

  #wire(interactive) {
    const showTip = (e) => { const g = e.target.closest?.('.node'); if (g) { this.#showTip(g); this.#labelEdgesOf(g.dataset.id, 'hover'); } };
    const hideTip = (e) => { const g = e.target.closest?.('.node'); if (g) { this.#hideTip(g); this.#labelEdgesOf(null, 'hover'); } };
    this.svg.addEventListener('pointerover', showTip);
    this.svg.addEventListener('pointerout', hideTip);
    this.svg.addEventListener('focusin', showTip);
    this.svg.addEventListener('focusout', hideTip);
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
    this.svg.addEventListener('dblclick', (e) => {
      if (e.target.closest('.node')?.dataset.id === PIPELINE_ID) this.setExpanded(true);
    });
    this.svg.addEventListener('keydown', (e) => {
      const g = e.target.closest?.('.node');
      if (g && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); this.#select(g.dataset.id); }
    });
  }

  #showTip(g) {
    const n = this.map.nodes.find((x) => x.id === g.dataset.id);
    if (!n) return;
    this.tip.replaceChildren(
      h('strong', { text: n.name }),
      h('span', { text: `${n.component}${n.route ? ` · ${n.route}` : ''}` }),
      h('span', { text: `${formatCount(n.count)} calls · ${formatCount(n.errorCount)} errors · p50 ${formatDuration(n.p50Ms)}` }));
    const host = this.host.getBoundingClientRect();
    const r = g.getBoundingClientRect();
    this.tip.hidden = false;
    this.tip.style.left = `${Math.max(4, Math.min(r.left - host.left, host.width - 320))}px`;
    this.tip.style.top = `${r.bottom - host.top + 6}px`;
    g.setAttribute('aria-describedby', this.tip.id);
  }

  #hideTip(g) {
    this.tip.hidden = true;
    g.removeAttribute('aria-describedby');
  }

  // Edge labels show for the edges of the node under the pointer, focused or selected (and always for failing edges).
  #labelEdgesOf(id, why) {
    for (const [, el] of this.edgeEls) {
      const on = !!id && (el.g.dataset.source === id || el.g.dataset.target === id);
      el.g.classList.toggle(`label-${why}`, on);
      el.label.classList.toggle(`shown-${why}`, on);
    }
  }

  #select(id) {
    this.selected = id;
    this.#labelEdgesOf(id, 'selected');
    for (const [nid, el] of this.nodeEls) el.classList.toggle('selected', nid === id);
    this.onNodeClick?.(this.map.nodes.find((n) => n.id === id) ?? null, this.map);
  }

  handleKey(e) {
    if (e.key === '+' || e.key === '=') this.zoomBy(1.2);
    else if (e.key === '-') this.zoomBy(1 / 1.2);
    else if (e.key === '0') this.fit();
    else if ((e.key === 'x' || e.key === 'X') && this.fold) this.setExpanded(!this.expanded);
    else return false;
    return true;
  }

  zoomBy(f, cx, cy) {
    const r = this.svg.getBoundingClientRect();
    const x = cx ?? r.width / 2, y = cy ?? r.height / 2;
    const z = Math.min(4, Math.max(MIN_ZOOM, this.zoom * f));
    const k = z / this.zoom;
    this.pan.x = x - (x - this.pan.x) * k;
    this.pan.y = y - (y - this.pan.y) * k;
    this.zoom = z;
    this.#applyTransform();
  }

  // Fits the whole map, or as much as fits with text at 11 px or more (starting from the left).
  fit() {
    const r = this.svg.getBoundingClientRect();
    if (!this.bounds || !r.width) return;
    const { w, h: ht } = this.bounds;
    const availW = r.width - 40, availH = r.height - 70;
    const want = Math.min(1.4, availW / w, availH / ht);
    const z = Math.max(MIN_ZOOM, want);
    this.zoom = z;
    this.pan.x = w * z <= availW ? (r.width - w * z) / 2 : 20;
    this.pan.y = ht * z <= availH ? Math.max(44, (r.height - ht * z) / 2) : 44;
    this.clipNote.hidden = want >= MIN_ZOOM;
    this.#applyTransform();
  }

  #applyTransform() {
    this.viewport.setAttribute('transform', `translate(${this.pan.x.toFixed(1)},${this.pan.y.toFixed(1)}) scale(${this.zoom.toFixed(3)})`);
  }

  setExpanded(expanded) {
    if (!this.fold || expanded === this.expanded) return;
    this.expanded = expanded;
    this.expandBtn.setAttribute('aria-pressed', String(expanded));
    this.expandBtn.textContent = expanded ? 'Fold pipeline' : 'Expand pipeline';
    this.signature = '';
    this.setData(this.source, { refit: true });
  }

  // The drawn node of an original node id (folded nodes are drawn as their pipeline or action).
  shown(id) { return this.alias.get(id) ?? id; }

  // Replaces the graph. Layout is recomputed only when the set of nodes/edges changes.
  setData(map, { refit = false } = {}) {
    this.source = { nodes: Array.isArray(map?.nodes) ? map.nodes : [], edges: Array.isArray(map?.edges) ? map.edges : [], overflow: map?.overflow ?? 0 };
    const folded = this.fold ? foldMap(this.source, { expand: this.expanded }) : { nodes: this.source.nodes, edges: this.source.edges.filter((e) => e.source !== e.target), alias: new Map(), stacks: new Map() };
    this.alias = folded.alias;
    this.stacks = folded.stacks;
    this.map = { nodes: folded.nodes, edges: folded.edges, overflow: this.source.overflow };
    this.emptyEl.hidden = folded.nodes.length > 0;
    const sig = folded.nodes.map((n) => n.id).sort().join('\u0001') + '\u0002' + folded.edges.map((e) => `${e.source}\u0000${e.target}`).sort().join('\u0001');
    if (sig !== this.signature) {
      const first = !this.signature;
      this.signature = sig;
      const { positions, bounds } = layout(folded.nodes, folded.edges, folded.stacks);
      this.positions = positions;
      this.bounds = bounds;
      this.#draw();
      if (first || refit || this.autoFit) requestAnimationFrame(() => this.fit());
    } else this.#updateLabels();
  }

  #edgePath(a, b) {
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    if (a.x === b.x) {
      // Within a vertical chain (the expanded pipeline): straight down, or around the side going back up.
      if (b.y > a.y) return `M${a.x + NODE_W / 2},${a.y + NODE_H} L${b.x + NODE_W / 2},${b.y}`;
      const side = a.x + NODE_W + 24;
      return `M${x1},${y1} C${side},${y1} ${side},${y2} ${x1},${y2}`;
    }
    if (x2 > x1) {
      const mx = (x1 + x2) / 2;
      return `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
    }
    // Back edge (cycle): loop below the nodes.
    const low = Math.max(a.y, b.y) + NODE_H + 30;
    return `M${a.x + NODE_W / 2},${a.y + NODE_H} C${a.x + NODE_W / 2},${low} ${b.x + NODE_W / 2},${low} ${b.x + NODE_W / 2},${b.y + NODE_H}`;
  }

  #draw() {
    this.edgeLayer.replaceChildren();
    this.nodeLayer.replaceChildren();
    this.labelLayer.replaceChildren();
    this.edgeEls.clear();
    this.nodeEls.clear();
    for (const e of this.map.edges) {
      const a = this.positions.get(e.source), b = this.positions.get(e.target);
      if (!a || !b) continue;
      const path = svg('path', { d: this.#edgePath(a, b), class: 'edge-path', 'marker-end': 'url(#fs-arrow)' });
      const label = svg('text', { class: 'edge-label', 'text-anchor': 'middle' });
      const g = svg('g', { class: 'edge', dataset: { source: e.source, target: e.target } }, path);
      g.classList.toggle('in-chain', a.x === b.x);
      this.edgeLayer.append(g);
      this.labelLayer.append(label);
      this.edgeEls.set(`${e.source}\u0000${e.target}`, { g, path, label });
    }
    for (const n of this.map.nodes) {
      const p = this.positions.get(n.id);
      if (!p) continue;
      const name = svg('text', { class: 'node-name', x: 12, y: 19 });
      const stats = svg('text', { class: 'node-stats', x: 12, y: 37 });
      const g = svg('g', {
        class: 'node', tabindex: '0', role: 'button', transform: `translate(${p.x},${p.y})`,
        dataset: { id: n.id, component: n.component || 'custom' },
      },
      svg('rect', { class: 'node-box', width: NODE_W, height: NODE_H, rx: 7 }),
      svg('rect', { class: 'node-stripe', width: 5, height: NODE_H, rx: 2 }),
      svg('circle', { class: 'node-health', cx: NODE_W - 12, cy: 12, r: 4 }),
      name, stats);
      g.classList.toggle('selected', n.id === this.selected);
      g.classList.toggle('folded', !!n.folded);
      this.nodeLayer.append(g);
      this.nodeEls.set(n.id, g);
    }
    this.#updateLabels();
    if (this.selected) this.#labelEdgesOf(this.selected, 'selected');
  }

  #updateLabels() {
    const byId = new Map(this.map.nodes.map((n) => [n.id, n]));
    for (const [id, g] of this.nodeEls) {
      const n = byId.get(id);
      if (!n) continue;
      const [, , health, name, stats] = g.children;
      const label = String(n.name);
      const shortName = fitText(name, label, NAME_PX);
      const errRate = n.count ? n.errorCount / n.count : 0;
      stats.textContent = `${n.folded ? 'pipeline' : n.component} · ${formatCount(n.count)} · ${formatDuration(n.p50Ms)}`;
      health.setAttribute('class', `node-health ${errRate >= 0.25 ? 'h-error' : errRate > 0 ? 'h-warn' : n.count ? 'h-ok' : 'h-idle'}`);
      // The accessible name is the visible text; the full name and the errors are in the tooltip (described by).
      g.dataset.fullName = label;
    }
    for (const e of this.map.edges) {
      const el = this.edgeEls.get(`${e.source}\u0000${e.target}`);
      if (!el) continue;
      el.g.classList.toggle('has-errors', e.errorCount > 0);
      el.label.classList.toggle('has-errors', e.errorCount > 0);
      el.path.style.strokeWidth = `${Math.min(5, 1.2 + Math.log10(1 + e.count))}`;
      if (el.g.classList.contains('in-chain')) { el.label.textContent = ''; continue; }
      const len = el.path.getTotalLength?.() || 0;
      // Midway, where fanned-out edges are half a row apart.
      const mid = len ? el.path.getPointAtLength(len * 0.5) : { x: 0, y: 0 };
      el.label.setAttribute('x', mid.x.toFixed(1));
      el.label.setAttribute('y', (mid.y - 5).toFixed(1));
      const er = e.count ? (e.errorCount / e.count) * 100 : 0;
      el.label.textContent = `${compactCount(e.count)}${er ? ` · ${er.toFixed(er < 10 ? 1 : 0)}% err` : ''} · ${formatDuration(e.p50Ms)}`;
    }
  }

  // Highlights nodes (a Set of original ids) and optionally one edge; null clears.
  highlight(nodeIds, edge = null) {
    const shown = nodeIds ? new Set([...nodeIds].map((id) => this.shown(id))) : null;
    const key = edge ? `${this.shown(edge.source)}\u0000${this.shown(edge.target)}` : null;
    for (const [id, g] of this.nodeEls) {
      g.classList.toggle('hl', !!shown?.has(id));
      g.classList.toggle('dim', !!shown && !shown.has(id));
    }
    for (const [k, el] of this.edgeEls) {
      el.g.classList.toggle('hl', k === key);
      el.label.classList.toggle('shown-hl', k === key);
    }
  }

  // Sends a bubble along the edge source → target (original ids; if drawn).
  bubble(sourceId, targetId, { error = false, delay = 0, duration = 900 } = {}) {
    const el = this.edgeEls.get(`${this.shown(sourceId)}\u0000${this.shown(targetId)}`);
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
    const component = new Map(this.map.nodes.map((n) => [n.id, n.component]));
    let sent = 0;
    for (const e of this.map.edges) {
      if (sent >= 8) break;
      if (!comps.has(component.get(e.source)) || !comps.has(component.get(e.target))) continue;
      const depth = Math.round((this.positions.get(e.source)?.x ?? 0) / (NODE_W + 100));
      if (this.bubble(e.source, e.target, { error: summary.status === 'error', delay: depth * 220 })) sent++;
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

// Sets a text element to `text`, shortened with "…" to fit `maxPx` (measured); returns what it shows.
function fitText(el, text, maxPx) {
  el.textContent = text;
  const width = el.getComputedTextLength?.() ?? 0;
  if (width === 0 && text) {
    // Not rendered (a hidden view): shorten by an average glyph width.
    const chars = Math.floor(maxPx / 7.8);
    el.textContent = text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
    return el.textContent;
  }
  if (width <= maxPx) return text;
  let lo = 1, hi = text.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    el.textContent = `${text.slice(0, mid)}…`;
    if (el.getComputedTextLength() <= maxPx) lo = mid; else hi = mid - 1;
  }
  el.textContent = `${text.slice(0, lo)}…`;
  return el.textContent;
}

function compactCount(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return formatCount(n);
}
