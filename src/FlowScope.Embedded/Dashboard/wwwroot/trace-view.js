// Trace view: header, a virtualised waterfall that fills the pane (collapse,
// total and self time, critical path, logs and exceptions inline, repeated
// queries folded), or a flame graph; search within the trace; keys for the
// next/previous error and the slowest span; the span panel below, resizable.
// An error trace opens at its first error.
import { h, statusBadge, copyText, toast } from './dom.js';
import { source, buildTree, spanMatches } from './model.js';
import { parseTime, formatDuration, formatDateTime, formatCount } from './format.js';
import { renderSpanDetail } from './span-detail.js';
import { buildRows, rowIndexOf } from './waterfall-rows.js';
import { spanRowElement, groupRowElement, ROW_H } from './waterfall-row-view.js';

export { injectedFault, attributesTable } from './span-detail.js';

const OVERSCAN = 10;

export class TraceView {
  constructor(container, { onSpanSelect, onClose, onAction, onMissing, isEvicted, compact = false } = {}) {
    this.el = container;
    this.onSpanSelect = onSpanSelect;
    this.onClose = onClose;
    this.onAction = onAction;
    this.onMissing = onMissing;
    this.isEvicted = isEvicted;
    this.compact = compact;
    this.traceId = null;
    this.spanId = null;
    this.data = null;
    this.tree = null;
    this.collapsed = new Set();
    this.openGroups = new Set();
    this.rows = [];
    this.cursor = 0;
    this.matches = [];
    this.matchIndex = -1;
    this.needle = '';
    this.mode = 'waterfall';
    this.detailShare = 0.4;
    this.replayCurrent = null;
    this.replayDone = null;
    this.abort = null;
    this.refreshTimer = null;
    this.frame = 0;
    this.showEmpty();
  }

  showEmpty(text = 'Select a trace to see its waterfall.') {
    this.#cancel();
    this.traceId = null;
    this.spanId = null;
    this.data = null;
    this.tree = null;
    this.el.replaceChildren(h('p', { class: 'empty', text }));
  }

  async show(traceId, spanId = null) {
    if (traceId === this.traceId && this.data) {
      if (spanId !== this.spanId) this.selectSpan(spanId, { notify: false });
      return;
    }
    this.#cancel();
    this.traceId = traceId;
    this.spanId = spanId;
    this.collapsed.clear();
    this.openGroups.clear();
    this.data = null;
    this.needle = '';
    this.el.replaceChildren(h('p', { class: 'empty loading', text: 'Loading trace…' }));
    await this.#load();
  }

  // Shows already loaded trace data (replay, compare).
  setData(data, spanId = null) {
    this.#cancel();
    if (this.traceId !== data.traceId) { this.collapsed.clear(); this.openGroups.clear(); this.needle = ''; }
    this.traceId = data.traceId;
    this.spanId = spanId;
    this.data = data;
    this.#render();
  }

  // The store no longer holds the open trace: its header says so (the copy shown stays).
  markEvicted(traceId) {
    if (traceId !== this.traceId || !this.data || this.el.querySelector('.trace-header .flag-evicted')) return;
    this.el.querySelector('.trace-title .actions')?.before(h('span', { class: 'row-flag flag-evicted', title: 'The store no longer holds this trace: this copy was loaded before it was evicted', text: 'evicted' }));
  }

  refreshSoon() {
    if (!this.traceId || this.refreshTimer || source.isImported) return;
    this.refreshTimer = setTimeout(() => { this.refreshTimer = null; this.#load(); }, 250);
  }

  #cancel() {
    if (this.abort) this.abort.abort();
    this.abort = null;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  async #load() {
    const traceId = this.traceId;
    if (this.abort) this.abort.abort();
    const ctrl = new AbortController();
    this.abort = ctrl;
    try {
      const data = await source.loadTrace(traceId, ctrl.signal);
      if (ctrl.signal.aborted || traceId !== this.traceId) return;
      this.data = data;
      this.#render();
    } catch (err) {
      if (ctrl.signal.aborted || err?.name === 'AbortError' || traceId !== this.traceId) return;
      if (this.data) return;
      const missing = err?.status === 404;
      if (missing && !source.isImported) this.onMissing?.(traceId);
      const msg = missing
        ? 'This trace was evicted: the store is capped in memory (FlowScope:MaxStoreMegabytes) and lets the oldest ordinary traces go first.'
        : `Could not load the trace: ${err?.message || err}`;
      this.el.replaceChildren(h('div', { class: 'error-box', role: 'alert' },
        h('p', { text: msg }), h('p', { class: 'muted' }, 'Trace ID: ', h('code', { text: traceId })),
        this.compact ? null : h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.onClose?.() }, 'Close')));
    } finally {
      if (this.abort === ctrl) this.abort = null;
    }
  }

  #render() {
    const { summary = {}, spans = [] } = this.data;
    const tree = buildTree(Array.isArray(spans) ? spans : []);
    this.tree = tree;
    let t0 = Infinity, t1 = -Infinity;
    for (const n of tree.nodes.values()) {
      if (!Number.isFinite(n.start)) continue;
      t0 = Math.min(t0, n.start);
      t1 = Math.max(t1, n.end);
    }
    const st = parseTime(summary.startTime);
    if (Number.isFinite(st) && st < t0) t0 = st;
    this.t0 = Number.isFinite(t0) ? t0 : 0;
    this.total = Math.max(Number.isFinite(t1) ? t1 - this.t0 : 0, Number(summary.durationMs) || 0, 0.001);
    // Errors in tree order (spans, then exceptions recorded on healthy spans), and the slowest span by self time.
    this.errorIds = tree.order.filter((n) => n.span.status === 'error').map((n) => n.span.spanId);
    this.slowestId = tree.order.reduce((a, n) => (!a || n.self > a.self ? n : a), null)?.span.spanId ?? null;

    const oldScroll = this.scrollEl?.scrollTop ?? 0;
    const sameTrace = this.renderedTrace === this.traceId;
    this.renderedTrace = this.traceId;

    this.scrollEl = h('div', { class: 'wf-scroll', tabindex: '0', role: 'tree', 'aria-label': 'Spans (arrows move, left/right collapse, Enter selects, E next error, S slowest)' });
    this.spacer = h('div', { class: 'wf-spacer' });
    this.scrollEl.append(this.spacer);
    this.scrollEl.addEventListener('scroll', () => this.#schedule());
    this.scrollEl.addEventListener('click', (e) => this.#onClick(e));
    this.scrollEl.addEventListener('keydown', (e) => this.#onKey(e));
    this.flameHost = h('div', { class: 'flame-host', hidden: true });
    this.detailEl = h('div', { class: 'span-detail', 'aria-live': 'polite', hidden: true });
    this.splitter = h('div', { class: 'splitter', role: 'separator', tabindex: '0', 'aria-orientation': 'horizontal', 'aria-label': 'Resize the span panel (up and down arrows)', hidden: true });
    this.#wireSplitter();
    this.bodyEl = h('div', { class: 'wf-body' }, this.#renderScale(), this.scrollEl, this.flameHost);

    this.el.replaceChildren(
      this.#renderHeader(summary, tree),
      this.#renderToolbar(),
      this.bodyEl,
      this.splitter,
      this.detailEl);
    if (!this.resizeObs) this.resizeObs = new ResizeObserver(() => this.#schedule());
    this.resizeObs.disconnect();
    this.resizeObs.observe(this.scrollEl);
    this.#applyDetailShare();

    this.#rebuildRows();
    if (sameTrace) this.scrollEl.scrollTop = oldScroll;
    if (this.needle) this.#search(this.needle, false);
    if (this.spanId && !tree.nodes.has(this.spanId)) this.spanId = null;
    // A failed trace opens at its first error.
    const openAt = !sameTrace && !this.spanId && this.errorIds.length && !this.replayDone ? this.errorIds[0] : null;
    if (openAt) {
      this.selectSpan(openAt, { notify: false, center: true });
    } else {
      this.selectSpan(this.spanId, { notify: false, scroll: !sameTrace });
    }
    if (this.mode === 'flame') this.#showFlame();
  }

  #renderHeader(summary, tree) {
    const name = String(summary.name ?? '') || '(unnamed)';
    const traceId = this.data.traceId ?? this.traceId;
    const meta = [
      ['Duration', formatDuration(this.total)],
      ['Spans', formatCount(tree.nodes.size)],
      ['Errors', formatCount(summary.errorCount ?? 0)],
      ['Started', formatDateTime(this.t0)],
    ];
    if (summary.method || summary.route) meta.push(['Route', `${summary.method ?? ''} ${summary.route ?? ''}`.trim()]);
    if (summary.statusCode != null) meta.push(['HTTP', String(summary.statusCode)]);
    if (Number(summary.databaseCount) > 0) meta.push(['Queries', formatCount(Number(summary.databaseCount))]);
    const evicted = this.isEvicted?.(traceId);
    const actions = this.compact ? null : h('div', { class: 'actions' },
      h('button', { class: 'btn btn-small', type: 'button', title: 'Replay this trace step by step (R)', onclick: () => this.onAction?.('replay', traceId) }, '▶ Replay'),
      h('button', { class: 'btn btn-small', type: 'button', title: 'Compare with another trace of the same operation', onclick: () => this.onAction?.('compare', traceId) }, 'Compare'),
      h('button', { class: 'btn btn-small', type: 'button', title: 'Download as OTLP JSON', onclick: () => this.onAction?.('export', traceId) }, 'Export'),
      h('button', { class: 'btn btn-small', type: 'button', 'aria-label': 'Close trace', title: 'Close (Esc)', onclick: () => this.onClose?.() }, '✕'));
    const badges = [];
    if (Number(summary.nPlusOne) > 0) badges.push(h('span', { class: 'row-flag flag-nplus', title: 'One statement ran once per item (N+1 queries)', text: `N+1 ×${summary.nPlusOne}` }));
    if (Number(summary.duplicateQueries) > 0) badges.push(h('span', { class: 'row-flag flag-dup', title: 'Exact repeats: same statement, same values', text: `dup ×${summary.duplicateQueries}` }));
    if (evicted) badges.push(h('span', { class: 'row-flag flag-evicted', title: 'The store no longer holds this trace: this copy was loaded before it was evicted', text: 'evicted' }));
    return h('header', { class: 'trace-header' },
      h('div', { class: 'trace-title' },
        h('h2', { text: name, title: name }),
        statusBadge(summary.status),
        badges,
        actions),
      h('dl', { class: 'meta' },
        h('div', null, h('dt', { text: 'Trace' }), h('dd', null,
          h('code', { class: 'mono', text: traceId }),
          h('button', { class: 'icon-btn', type: 'button', title: 'Copy trace id', 'aria-label': 'Copy trace id',
            onclick: async () => toast((await copyText(traceId)) ? 'Trace id copied' : 'Copy failed') }, 'copy'))),
        meta.map(([k, v]) => h('div', null, h('dt', { text: k }), h('dd', { text: v })))));
  }

  #renderToolbar() {
    const input = h('input', { type: 'search', class: 'wf-search', placeholder: 'Search in trace… (Enter: next)', 'aria-label': 'Search within the trace', spellcheck: 'false' });
    input.value = this.needle;
    this.matchEl = h('span', { class: 'muted small match-count' });
    input.addEventListener('input', () => this.#search(input.value, true));
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.#nextMatch(e.shiftKey ? -1 : 1); }
      if (e.key === 'Escape' && input.value) { e.stopPropagation(); input.value = ''; this.#search('', false); }
    });
    this.searchInput = input;
    const errors = this.errorIds.length;
    this.modeGroup = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Trace view' },
      ['waterfall', 'flame'].map((m) => h('button', {
        class: 'seg', type: 'button', role: 'radio', 'aria-checked': String(this.mode === m), dataset: { mode: m },
        title: m === 'flame' ? 'Flame graph: each level of nesting one row (F)' : 'Waterfall: one row per span (F)', onclick: () => this.setMode(m),
      }, m === 'flame' ? 'Flame graph' : 'Waterfall')));
    return h('div', { class: 'wf-toolbar' },
      input, this.matchEl,
      h('button', { class: 'btn btn-small', type: 'button', title: 'Previous match', 'aria-label': 'Previous match', onclick: () => this.#nextMatch(-1) }, '↑'),
      h('button', { class: 'btn btn-small', type: 'button', title: 'Next match', 'aria-label': 'Next match', onclick: () => this.#nextMatch(1) }, '↓'),
      h('span', { class: 'sep' }),
      h('button', { class: 'btn btn-small', type: 'button', id: 'wf-prev-error', disabled: !errors, title: 'Previous error (Shift+E)', onclick: () => this.gotoError(-1) }, '‹'),
      h('button', { class: 'btn btn-small btn-error', type: 'button', id: 'wf-next-error', disabled: !errors, title: 'Next error (E)', onclick: () => this.gotoError(1) }, `${formatCount(errors)} error${errors === 1 ? '' : 's'} ›`),
      h('button', { class: 'btn btn-small', type: 'button', id: 'wf-slowest', title: 'The span with the most self time (S)', onclick: () => this.gotoSlowest() }, 'Slowest'),
      h('span', { class: 'sep' }),
      h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.#collapseAll(false) }, 'Expand all'),
      h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.#collapseAll(true) }, 'Collapse all'),
      this.modeGroup,
      h('span', { class: 'legend' }, h('span', { class: 'crit-swatch' }), 'critical path'));
  }

  #renderScale() {
    const ticks = h('div', { class: 'wc-bar ticks' });
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const tick = h('span', { class: 'tick', text: f === 0 ? '0' : formatDuration(this.total * f) });
      tick.style.left = `${f * 100}%`;
      if (f === 1) tick.classList.add('tick-end');
      ticks.append(tick);
    }
    this.scaleEl = h('div', { class: 'wrow wf-scale', 'aria-hidden': 'true' },
      h('span', { class: 'wc-name', text: 'Span' }), h('span', { class: 'wc-comp', text: 'Component' }),
      h('span', { class: 'wc-num', text: 'Total' }), h('span', { class: 'wc-num', text: 'Self' }), ticks);
    return this.scaleEl;
  }

  // ---- Span panel (below the waterfall, resizable) --------------------------------

  #wireSplitter() {
    let drag = null;
    this.splitter.addEventListener('pointerdown', (e) => {
      drag = { y: e.clientY, share: this.detailShare, height: this.el.clientHeight || 1 };
      this.splitter.setPointerCapture(e.pointerId);
    });
    this.splitter.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.detailShare = clamp(drag.share - (e.clientY - drag.y) / drag.height, 0.15, 0.8);
      this.#applyDetailShare();
    });
    const end = () => { drag = null; };
    this.splitter.addEventListener('pointerup', end);
    this.splitter.addEventListener('pointercancel', end);
    this.splitter.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
      e.preventDefault();
      this.detailShare = clamp(this.detailShare + (e.key === 'ArrowUp' ? 0.05 : -0.05), 0.15, 0.8);
      this.#applyDetailShare();
    });
  }

  #applyDetailShare() {
    this.detailEl.style.flexBasis = `${Math.round(this.detailShare * 100)}%`;
    this.splitter.setAttribute('aria-valuenow', String(Math.round(this.detailShare * 100)));
  }

  // ---- Rows -------------------------------------------------------------------------

  #rebuildRows() {
    const rows = buildRows(this.tree, this.collapsed, this.openGroups);
    this.rows = rows;
    this.spacer.style.height = `${rows.length * ROW_H}px`;
    for (const el of [...this.spacer.children]) el.remove();
    this.rendered = new Map();
    this.cursor = Math.min(this.cursor, Math.max(rows.length - 1, 0));
    this.#renderVisible();
  }

  #schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.#renderVisible(); });
  }

  #renderVisible() {
    if (!this.scrollEl) return;
    const top = this.scrollEl.scrollTop;
    const height = this.scrollEl.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(this.rows.length - 1, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    for (const [i, el] of this.rendered) if (i < first || i > last) { el.remove(); this.rendered.delete(i); }
    for (let i = first; i <= last; i++) {
      let el = this.rendered.get(i);
      if (!el) {
        el = this.#renderRow(this.rows[i], i);
        this.rendered.set(i, el);
        this.spacer.append(el);
      }
      this.#decorate(el, this.rows[i], i);
    }
    if (!this.rows.length && !this.spacer.firstChild) this.spacer.append(h('p', { class: 'empty', text: 'This trace has no spans yet.' }));
    const cur = this.rendered.get(this.cursor);
    if (cur) this.scrollEl.setAttribute('aria-activedescendant', cur.id);
  }

  #decorate(el, row, i) {
    el.classList.toggle('cursor', i === this.cursor);
    if (row.group || row.ev) return;
    const id = row.node.span.spanId;
    const sel = id === this.spanId;
    el.classList.toggle('selected', sel);
    el.classList.toggle('match', !!this.matchSet?.has(id));
    el.classList.toggle('replay-current', id === this.replayCurrent);
    el.classList.toggle('replay-done', !!this.replayDone?.has(id) && id !== this.replayCurrent);
    el.classList.toggle('replay-pending', !!this.replayDone && !this.replayDone.has(id) && id !== this.replayCurrent);
    el.setAttribute('aria-selected', sel ? 'true' : 'false');
  }

  #renderRow(row, i) {
    const ctx = { t0: this.t0, total: this.total, collapsed: this.collapsed, openGroups: this.openGroups };
    return row.group ? groupRowElement(row, i, ctx) : spanRowElement(row, i, ctx);
  }

  #onClick(e) {
    const el = e.target.closest('.wrow[data-index]');
    if (!el) return;
    this.cursor = Number(el.dataset.index);
    if (el.dataset.group) { this.#toggleGroup(el.dataset.group); return; }
    if (!el.dataset.spanId) return;
    if (e.target.closest('.toggle')) { this.#toggle(el.dataset.spanId); return; }
    this.selectSpan(el.dataset.spanId);
  }

  #onKey(e) {
    if (!this.rows.length) return;
    const page = Math.max(1, Math.floor(this.scrollEl.clientHeight / ROW_H) - 1);
    let c = this.cursor;
    const row = this.rows[c];
    switch (e.key) {
      case 'ArrowDown': c++; break;
      case 'ArrowUp': c--; break;
      case 'PageDown': c += page; break;
      case 'PageUp': c -= page; break;
      case 'Home': c = 0; break;
      case 'End': c = this.rows.length - 1; break;
      case 'ArrowRight': e.preventDefault(); if (row.group) this.#toggleGroup(row.group.key, true); else this.#toggle(row.node.span.spanId, false); return;
      case 'ArrowLeft': e.preventDefault(); if (row.group) this.#toggleGroup(row.group.key, false); else this.#toggle(row.node.span.spanId, true); return;
      case 'Enter': case ' ':
        e.preventDefault();
        if (row.group) this.#toggleGroup(row.group.key);
        else this.selectSpan(row.node.span.spanId);
        return;
      default: return;
    }
    e.preventDefault();
    this.cursor = Math.max(0, Math.min(this.rows.length - 1, c));
    this.#scrollToIndex(this.cursor);
    this.#schedule();
  }

  // Keys that work anywhere while the trace is open: E / Shift+E errors, S slowest, F flame graph.
  handleKey(e) {
    if (!this.tree || e.target.closest?.('.span-detail, .wf-toolbar input')) return false;
    if (e.key === 'e') { this.gotoError(1); return true; }
    if (e.key === 'E') { this.gotoError(-1); return true; }
    if (e.key === 's') { this.gotoSlowest(); return true; }
    if (e.key === 'f') { this.setMode(this.mode === 'flame' ? 'waterfall' : 'flame'); return true; }
    return false;
  }

  gotoError(dir) {
    if (!this.errorIds?.length) return;
    const at = this.errorIds.indexOf(this.spanId);
    const next = at < 0 ? (dir > 0 ? 0 : this.errorIds.length - 1) : (at + dir + this.errorIds.length) % this.errorIds.length;
    this.selectSpan(this.errorIds[next], { center: true });
  }

  gotoSlowest() {
    if (this.slowestId) this.selectSpan(this.slowestId, { center: true });
  }

  #scrollToIndex(i, center = false) {
    const y = i * ROW_H;
    const el = this.scrollEl;
    if (center && (y < el.scrollTop || y + ROW_H > el.scrollTop + el.clientHeight)) el.scrollTop = Math.max(0, y - el.clientHeight / 3);
    else if (y < el.scrollTop) el.scrollTop = y;
    else if (y + ROW_H > el.scrollTop + el.clientHeight) el.scrollTop = y + ROW_H - el.clientHeight + ROW_H;
  }

  #toggle(spanId, force) {
    const node = this.tree.nodes.get(spanId);
    if (!node?.children.length) return;
    const isCollapsed = this.collapsed.has(spanId);
    const collapse = force ?? !isCollapsed;
    if (collapse === isCollapsed) return;
    if (collapse) this.collapsed.add(spanId); else this.collapsed.delete(spanId);
    this.#rebuildRows();
    const idx = rowIndexOf(this.rows, spanId);
    if (idx >= 0) this.cursor = idx;
    this.#schedule();
  }

  #toggleGroup(key, force) {
    const open = this.openGroups.has(key);
    const want = force ?? !open;
    if (want === open) return;
    if (want) this.openGroups.add(key); else this.openGroups.delete(key);
    this.#rebuildRows();
    const idx = this.rows.findIndex((r) => r.group?.key === key);
    if (idx >= 0) this.cursor = idx;
    this.#schedule();
  }

  #collapseAll(collapse) {
    this.collapsed.clear();
    if (collapse) for (const n of this.tree.nodes.values()) if (n.children.length && n.depth >= 1) this.collapsed.add(n.span.spanId);
    this.#rebuildRows();
  }

  // Expands the ancestors (and the repeated-statement group) of a span so its row exists; returns its row index.
  #reveal(spanId) {
    const node = this.tree?.nodes.get(spanId);
    if (!node) return -1;
    let changed = false;
    for (let p = node.parent, guard = 0; p && guard < 10000; p = p.parent, guard++) {
      if (this.collapsed.delete(p.span.spanId)) changed = true;
    }
    if (changed) this.#rebuildRows();
    let idx = rowIndexOf(this.rows, spanId);
    for (let guard = 0; idx < 0 && guard < 50; guard++) {
      const group = this.rows.find((r) => r.group && !this.openGroups.has(r.group.key) && containsNode(r.group, node));
      if (!group) break;
      this.openGroups.add(group.group.key);
      this.#rebuildRows();
      idx = rowIndexOf(this.rows, spanId);
    }
    return idx;
  }

  selectSpan(spanId, { notify = true, scroll = true, center = false } = {}) {
    if (!this.tree) return;
    const node = spanId ? this.tree.nodes.get(spanId) : null;
    this.spanId = node ? spanId : null;
    // The panel first: opening it takes height from the waterfall, which the scrolling below must know.
    this.#renderDetail(node);
    if (node) {
      const idx = this.#reveal(spanId);
      if (idx >= 0) { this.cursor = idx; if (scroll) this.#scrollToIndex(idx, center); }
    }
    this.#renderVisible();
    this.flame?.select(this.spanId);
    if (notify) this.onSpanSelect?.(this.spanId);
  }

  // Replay: highlight the current span and mark the ones already started.
  highlight(spanId, done) {
    this.replayCurrent = spanId;
    this.replayDone = done;
    if (!this.tree) return;
    const idx = spanId ? this.#reveal(spanId) : -1;
    if (idx >= 0) { this.cursor = idx; this.#scrollToIndex(idx); }
    this.#renderVisible();
    if (spanId) this.#renderDetail(this.tree.nodes.get(spanId));
  }

  #search(text, jump) {
    this.needle = text.trim().toLowerCase();
    this.matches = this.needle ? this.tree.order.filter((n) => spanMatches(n.span, this.needle)).map((n) => n.span.spanId) : [];
    this.matchSet = new Set(this.matches);
    this.matchIndex = -1;
    this.matchEl.textContent = this.needle ? `${this.matches.length} match${this.matches.length === 1 ? '' : 'es'}` : '';
    if (jump && this.matches.length) this.#nextMatch(1);
    else this.#renderVisible();
  }

  #nextMatch(dir) {
    if (!this.matches.length) return;
    this.matchIndex = (this.matchIndex + dir + this.matches.length) % this.matches.length;
    this.matchEl.textContent = `${this.matchIndex + 1} / ${this.matches.length}`;
    this.selectSpan(this.matches[this.matchIndex]);
  }

  #renderDetail(node) {
    const show = !!node;
    this.detailEl.hidden = !show;
    this.splitter.hidden = !show;
    if (!node) { this.detailEl.replaceChildren(); return; }
    renderSpanDetail(this.detailEl, node, {
      t0: this.t0, traceId: this.traceId, compact: this.compact, onAction: this.onAction,
      onClose: this.compact ? null : () => { this.selectSpan(null); this.scrollEl.focus(); },
    });
  }

  // ---- Flame graph ------------------------------------------------------------------

  setMode(mode) {
    if (mode !== 'waterfall' && mode !== 'flame') return;
    this.mode = mode;
    for (const b of this.modeGroup?.children ?? []) b.setAttribute('aria-checked', String(b.dataset.mode === mode));
    if (mode === 'flame') this.#showFlame();
    else {
      this.flameHost.hidden = true;
      this.scrollEl.hidden = false;
      this.scaleEl.hidden = false;
      this.#schedule();
    }
  }

  async #showFlame() {
    const { FlameGraph } = await import('./flame.js');
    if (this.mode !== 'flame' || !this.tree) return;
    this.scrollEl.hidden = true;
    this.scaleEl.hidden = true;
    this.flameHost.hidden = false;
    if (this.flame?.tree !== this.tree) {
      this.flame = new FlameGraph(this.flameHost, this.tree, { t0: this.t0, total: this.total, onSelect: (id) => this.selectSpan(id) });
    }
    this.flame.select(this.spanId);
  }
}

function containsNode(group, node) {
  for (let n = node; n; n = n.parent) if (group.memberSet.has(n)) return true;
  return false;
}



function clamp(v, lo, hi) {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
}
