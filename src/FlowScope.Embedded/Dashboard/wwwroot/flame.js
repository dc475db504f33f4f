// Flame graph of one trace: time left to right, one row per level of nesting,
// each span a bar under its parent, named when wide enough (full name on hover
// and focus). Click or Enter selects the span; the arrow keys walk the tree
// (left/right: previous/next at the same level, up: parent, down: first child).
import { h } from './dom.js';
import { formatDuration, formatOffset } from './format.js';

const ROW_PX = 22;

export class FlameGraph {
  constructor(host, tree, { t0, total, onSelect }) {
    this.host = host;
    this.tree = tree;
    this.t0 = t0;
    this.total = total;
    this.onSelect = onSelect;
    this.bars = new Map(); // spanId -> element
    this.levels = []; // depth -> nodes in start order
    this.selected = null;
    this.focusId = null;
    this.#build();
  }

  #build() {
    let maxDepth = 0;
    for (const n of this.tree.order) {
      (this.levels[n.depth] ??= []).push(n);
      maxDepth = Math.max(maxDepth, n.depth);
    }
    const canvas = h('div', { class: 'flame-canvas', role: 'tree', tabindex: '0', 'aria-label': 'Flame graph (arrows walk the spans, Enter selects)' });
    canvas.style.height = `${(maxDepth + 1) * ROW_PX}px`;
    for (const n of this.tree.order) {
      const s = n.span;
      const left = clamp(((n.start - this.t0) / this.total) * 100, 0, 100);
      const width = Math.max(clamp((n.dur / this.total) * 100, 0, 100 - left), 0.15);
      const label = String(s.name ?? '') || '(unnamed)';
      const bar = h('div', {
        class: 'flame-bar', role: 'treeitem', id: `flame-${s.spanId}`, 'aria-level': String(n.depth + 1), 'aria-selected': 'false',
        dataset: { spanId: s.spanId, component: s.component || 'custom' },
        title: `${label}\n${s.component || 'custom'} · ${formatDuration(n.dur)} (self ${formatDuration(n.self)}) · starts ${formatOffset(n.start - this.t0)}`,
      }, h('span', { class: 'flame-label', text: label }));
      bar.style.left = `${left}%`;
      bar.style.width = `${width}%`;
      bar.style.top = `${n.depth * ROW_PX}px`;
      bar.classList.toggle('is-error', s.status === 'error');
      canvas.append(bar);
      this.bars.set(s.spanId, bar);
    }
    canvas.addEventListener('click', (e) => {
      const bar = e.target.closest('.flame-bar');
      if (bar) { this.focusId = bar.dataset.spanId; this.onSelect?.(bar.dataset.spanId); }
    });
    canvas.addEventListener('keydown', (e) => this.#onKey(e));
    canvas.addEventListener('focus', () => { if (!this.focusId) this.#focus(this.selected ?? this.tree.order[0]?.span.spanId); });
    this.canvas = canvas;
    this.host.replaceChildren(
      h('p', { class: 'muted small flame-note', text: 'Time runs left to right; each row is one level of nesting. Hover or focus a bar for its full name.' }),
      canvas);
  }

  select(spanId) {
    if (this.selected) this.bars.get(this.selected)?.setAttribute('aria-selected', 'false');
    this.selected = spanId ?? null;
    const bar = spanId ? this.bars.get(spanId) : null;
    if (bar) {
      bar.setAttribute('aria-selected', 'true');
      bar.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
      this.#focus(spanId);
    }
  }

  #focus(spanId) {
    if (!spanId || !this.bars.has(spanId)) return;
    if (this.focusId) this.bars.get(this.focusId)?.classList.remove('cursor');
    this.focusId = spanId;
    this.bars.get(spanId).classList.add('cursor');
    this.canvas.setAttribute('aria-activedescendant', `flame-${spanId}`);
  }

  #onKey(e) {
    const node = this.tree.nodes.get(this.focusId ?? this.selected ?? '') ?? this.tree.order[0];
    if (!node) return;
    let next = null;
    const level = this.levels[node.depth] ?? [];
    const i = level.indexOf(node);
    switch (e.key) {
      case 'ArrowRight': next = level[i + 1]; break;
      case 'ArrowLeft': next = level[i - 1]; break;
      case 'ArrowUp': next = node.parent; break;
      case 'ArrowDown': next = node.children[0]; break;
      case 'Enter': case ' ': e.preventDefault(); this.onSelect?.(node.span.spanId); return;
      default: return;
    }
    e.preventDefault();
    if (next) {
      this.#focus(next.span.spanId);
      this.bars.get(next.span.spanId)?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
    }
  }
}

function clamp(v, lo, hi) {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
}
