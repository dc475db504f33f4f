// Trace view: header, virtualised waterfall (collapse/expand, total and self
// time, critical path, logs and exceptions inline), search within the trace
// and the span panel (attributes, events, links, copy id/JSON).
import { h, statusBadge, componentTag, copyText, toast } from './dom.js';
import { source, buildTree, spanMatches } from './model.js';
import { parseTime, formatDuration, formatOffset, formatDateTime, formatCount } from './format.js';

const ROW_H = 24;
const LEVELS = { trace: 'trace', debug: 'debug', information: 'info', warning: 'warn', error: 'error', critical: 'crit', exception: 'exception' };
const OVERSCAN = 10;
const INDENT_PX = 14;
const FAULT_ID = 'flowscope.fault.id';
const INJECTED_EXCEPTION = /(^|\.)InjectedFaultException$/;

// The injection (Controls view) that touched a span: { id, delayMs, failure } or null.
export function injectedFault(span) {
  const a = span?.attributes;
  if (!a || a[FAULT_ID] == null || a[FAULT_ID] === '') return null;
  const delay = Number(a['flowscope.fault.delay_ms']);
  return {
    id: String(a[FAULT_ID]),
    delayMs: Number.isFinite(delay) && delay > 0 ? delay : 0,
    failure: String(a['flowscope.fault.failure']).toLowerCase() === 'true',
  };
}

function describeInjection(f) {
  const what = [f.delayMs ? `a delay of ${formatDuration(f.delayMs)}` : null, f.failure ? 'a failure' : null].filter(Boolean);
  return `by fault ${f.id} from the Controls view: ${what.join(' and ') || 'no effect on this call'}. `
    + 'Not a real slowdown or failure.';
}

export class TraceView {
  constructor(container, { onSpanSelect, onClose, onAction, compact = false } = {}) {
    this.el = container;
    this.onSpanSelect = onSpanSelect;
    this.onClose = onClose;
    this.onAction = onAction;
    this.compact = compact;
    this.traceId = null;
    this.spanId = null;
    this.data = null;
    this.tree = null;
    this.collapsed = new Set();
    this.rows = [];
    this.cursor = 0;
    this.matches = [];
    this.matchIndex = -1;
    this.needle = '';
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
    this.data = null;
    this.needle = '';
    this.el.replaceChildren(h('p', { class: 'empty loading', text: 'Loading trace…' }));
    await this.#load();
  }

  // Shows already loaded trace data (replay, compare).
  setData(data, spanId = null) {
    this.#cancel();
    if (this.traceId !== data.traceId) { this.collapsed.clear(); this.needle = ''; }
    this.traceId = data.traceId;
    this.spanId = spanId;
    this.data = data;
    this.#render();
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
      const msg = err?.status === 404
        ? 'Trace not found. It may have been evicted from the store.'
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

    const oldScroll = this.scrollEl?.scrollTop ?? 0;
    const sameTrace = this.renderedTrace === this.traceId;
    this.renderedTrace = this.traceId;

    this.scrollEl = h('div', { class: 'wf-scroll', tabindex: '0', role: 'tree', 'aria-label': 'Spans (arrows move, left/right collapse, Enter selects)' });
    this.spacer = h('div', { class: 'wf-spacer' });
    this.scrollEl.append(this.spacer);
    this.scrollEl.addEventListener('scroll', () => this.#schedule());
    this.scrollEl.addEventListener('click', (e) => this.#onClick(e));
    this.scrollEl.addEventListener('keydown', (e) => this.#onKey(e));
    this.detailEl = h('div', { class: 'span-detail', 'aria-live': 'polite' });

    this.el.replaceChildren(
      this.#renderHeader(summary, tree),
      this.#renderToolbar(),
      this.#renderScale(),
      this.scrollEl,
      this.detailEl);
    if (!this.resizeObs) {
      this.resizeObs = new ResizeObserver(() => this.#schedule());
    }
    this.resizeObs.disconnect();
    this.resizeObs.observe(this.scrollEl);

    this.#rebuildRows();
    if (sameTrace) this.scrollEl.scrollTop = oldScroll;
    if (this.needle) this.#search(this.needle, false);
    if (this.spanId && !tree.nodes.has(this.spanId)) this.spanId = null;
    this.selectSpan(this.spanId, { notify: false, scroll: !sameTrace });
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
    const actions = this.compact ? null : h('div', { class: 'actions' },
      h('button', { class: 'btn btn-small', type: 'button', title: 'Replay this trace step by step (R)', onclick: () => this.onAction?.('replay', traceId) }, '▶ Replay'),
      h('button', { class: 'btn btn-small', type: 'button', title: 'Compare with another trace of the same operation', onclick: () => this.onAction?.('compare', traceId) }, 'Compare'),
      h('button', { class: 'btn btn-small', type: 'button', title: 'Download as OTLP JSON', onclick: () => this.onAction?.('export', traceId) }, 'Export'),
      h('button', { class: 'btn btn-small', type: 'button', 'aria-label': 'Close trace', title: 'Close (Esc)', onclick: () => this.onClose?.() }, '✕'));
    return h('header', { class: 'trace-header' },
      h('div', { class: 'trace-title' },
        h('h2', { text: name, title: name }),
        statusBadge(summary.status),
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
    return h('div', { class: 'wf-toolbar' },
      input, this.matchEl,
      h('button', { class: 'btn btn-small', type: 'button', title: 'Previous match', 'aria-label': 'Previous match', onclick: () => this.#nextMatch(-1) }, '↑'),
      h('button', { class: 'btn btn-small', type: 'button', title: 'Next match', 'aria-label': 'Next match', onclick: () => this.#nextMatch(1) }, '↓'),
      h('span', { class: 'sep' }),
      h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.#collapseAll(false) }, 'Expand all'),
      h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.#collapseAll(true) }, 'Collapse all'),
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
    return h('div', { class: 'wrow wf-scale', 'aria-hidden': 'true' },
      h('span', { class: 'wc-name', text: 'Span' }), h('span', { class: 'wc-comp', text: 'Component' }),
      h('span', { class: 'wc-num', text: 'Total' }), h('span', { class: 'wc-num', text: 'Self' }), ticks);
  }

  // Flattens the tree into visible rows (spans plus inline log/exception rows).
  #rebuildRows() {
    const rows = [];
    const hiddenUnder = [];
    for (const node of this.tree.order) {
      while (hiddenUnder.length && node.depth <= hiddenUnder[hiddenUnder.length - 1]) hiddenUnder.pop();
      if (hiddenUnder.length) continue;
      rows.push({ node });
      for (const ev of inlineEvents(node.span)) rows.push({ node, ev });
      if (this.collapsed.has(node.span.spanId) && node.children.length) hiddenUnder.push(node.depth);
    }
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
    const id = row.node.span.spanId;
    const sel = !row.ev && id === this.spanId;
    el.classList.toggle('selected', sel);
    el.classList.toggle('cursor', i === this.cursor);
    el.classList.toggle('match', !row.ev && !!this.matchSet?.has(id));
    el.classList.toggle('replay-current', !row.ev && id === this.replayCurrent);
    el.classList.toggle('replay-done', !row.ev && !!this.replayDone?.has(id) && id !== this.replayCurrent);
    el.classList.toggle('replay-pending', !row.ev && !!this.replayDone && !this.replayDone.has(id) && id !== this.replayCurrent);
    if (!row.ev) el.setAttribute('aria-selected', sel ? 'true' : 'false');
  }

  #renderRow(row, i) {
    const { node, ev } = row;
    const s = node.span;
    const el = h('div', { class: 'wrow', id: `wrow-${i}`, dataset: { spanId: s.spanId, index: String(i) } });
    el.style.transform = `translateY(${i * ROW_H}px)`;
    if (ev) {
      const isExc = String(ev.name).toLowerCase() === 'exception';
      const a = ev.attributes || {};
      const rawLevel = isExc ? 'exception' : String(a['log.level'] ?? 'log');
      const level = LEVELS[rawLevel.toLowerCase()] ?? rawLevel;
      const text = isExc
        ? `${a['exception.type'] ?? 'Exception'}: ${a['exception.message'] ?? ''}`
        : String(ev.name ?? '');
      el.classList.add('wrow-event', isExc || /error|critical/i.test(level) ? 'is-error' : /warn/i.test(level) ? 'is-warn' : 'is-log');
      el.setAttribute('role', 'none');
      const injected = isExc && INJECTED_EXCEPTION.test(String(a['exception.type'] ?? ''));
      const nameCell = h('span', { class: 'wc-name' },
        h('span', { class: 'ev-level', text: level }),
        injected ? h('span', { class: 'fault-badge', text: '⚡ injected' }) : null,
        h('span', { class: 'ev-text', text }));
      nameCell.style.paddingLeft = `${24 + (node.depth + 1) * INDENT_PX}px`;
      nameCell.title = a['log.category'] ? `${a['log.category']}\n${text}` : text;
      const bar = h('span', { class: 'wc-bar' });
      const mark = h('span', { class: 'event-mark' });
      mark.style.left = `${clamp(((parseTime(ev.timestamp) - this.t0) / this.total) * 100, 0, 100)}%`;
      bar.append(mark);
      el.append(nameCell, h('span', { class: 'wc-num', text: formatOffset(parseTime(ev.timestamp) - this.t0) }), h('span', { class: 'wc-num' }), bar);
      return el;
    }
    const hasKids = node.children.length > 0;
    const collapsed = this.collapsed.has(s.spanId);
    el.setAttribute('role', 'treeitem');
    el.setAttribute('aria-level', String(node.depth + 1));
    if (hasKids) el.setAttribute('aria-expanded', String(!collapsed));
    el.classList.toggle('is-error', s.status === 'error');
    el.classList.toggle('critical', node.critical);
    const nameCell = h('span', { class: 'wc-name' });
    nameCell.style.paddingLeft = `${4 + node.depth * INDENT_PX}px`;
    nameCell.append(hasKids
      ? h('button', { class: 'toggle', type: 'button', tabindex: '-1', 'aria-label': collapsed ? 'Expand' : 'Collapse', text: collapsed ? '▸' : '▾' })
      : h('span', { class: 'toggle-spacer', 'aria-hidden': 'true' }));
    const label = String(s.name ?? '') || '(unnamed)';
    nameCell.append(h('span', { class: 'span-name', text: label }));
    const fault = injectedFault(s);
    if (fault) {
      el.classList.add('injected');
      nameCell.append(h('span', { class: 'fault-badge', title: `Injected on purpose ${describeInjection(fault)}`, text: '⚡ injected' }));
    }
    if (collapsed) nameCell.append(h('span', { class: 'collapsed-count', text: `+${countDescendants(node)}` }));
    nameCell.title = fault ? `${label}\nInjected on purpose ${describeInjection(fault)}` : label;
    const offset = Number.isFinite(node.start) ? node.start - this.t0 : 0;
    const bar = h('span', { class: 'bar', dataset: { component: s.component || 'custom' } });
    const left = clamp((offset / this.total) * 100, 0, 100);
    bar.style.left = `${left}%`;
    bar.style.width = `${Math.max(clamp((node.dur / this.total) * 100, 0, 100 - left), 0.3)}%`;
    const track = h('span', { class: 'wc-bar', title: `${formatOffset(offset)} · ${formatDuration(node.dur)} (self ${formatDuration(node.self)})` }, bar);
    el.append(nameCell,
      h('span', { class: 'wc-comp' }, componentTag(s.component)),
      h('span', { class: 'wc-num', text: formatDuration(node.dur) }),
      h('span', { class: 'wc-num self', text: formatDuration(node.self) }),
      track);
    return el;
  }

  #onClick(e) {
    const el = e.target.closest('.wrow[data-span-id]');
    if (!el) return;
    this.cursor = Number(el.dataset.index);
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
      case 'ArrowRight': e.preventDefault(); this.#toggle(row.node.span.spanId, false); return;
      case 'ArrowLeft': e.preventDefault(); this.#toggle(row.node.span.spanId, true); return;
      case 'Enter': case ' ': e.preventDefault(); this.selectSpan(row.node.span.spanId); return;
      default: return;
    }
    e.preventDefault();
    this.cursor = Math.max(0, Math.min(this.rows.length - 1, c));
    this.#scrollToIndex(this.cursor);
    this.#schedule();
  }

  #scrollToIndex(i) {
    const y = i * ROW_H;
    const el = this.scrollEl;
    if (y < el.scrollTop) el.scrollTop = y;
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
    const idx = this.rows.findIndex((r) => !r.ev && r.node.span.spanId === spanId);
    if (idx >= 0) this.cursor = idx;
    this.#schedule();
  }

  #collapseAll(collapse) {
    this.collapsed.clear();
    if (collapse) for (const n of this.tree.nodes.values()) if (n.children.length && n.depth >= 1) this.collapsed.add(n.span.spanId);
    this.#rebuildRows();
  }

  // Expands the ancestors of a span so its row exists; returns its row index.
  #reveal(spanId) {
    const node = this.tree?.nodes.get(spanId);
    if (!node) return -1;
    let changed = false;
    for (let p = node.parent, guard = 0; p && guard < 10000; p = p.parent, guard++) {
      if (this.collapsed.delete(p.span.spanId)) changed = true;
    }
    if (changed) this.#rebuildRows();
    return this.rows.findIndex((r) => !r.ev && r.node.span.spanId === spanId);
  }

  selectSpan(spanId, { notify = true, scroll = true } = {}) {
    if (!this.tree) return;
    const node = spanId ? this.tree.nodes.get(spanId) : null;
    this.spanId = node ? spanId : null;
    if (node) {
      const idx = this.#reveal(spanId);
      if (idx >= 0) { this.cursor = idx; if (scroll) this.#scrollToIndex(idx); }
    }
    this.#renderVisible();
    this.#renderDetail(node);
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
    if (!node) {
      this.detailEl.replaceChildren(h('p', { class: 'empty small', text: 'Select a span to see its attributes, events and links.' }));
      return;
    }
    const s = node.span;
    const offset = Number.isFinite(node.start) ? node.start - this.t0 : NaN;
    const rows = [
      ['Span ID', h('span', null, h('code', { class: 'mono', text: s.spanId }),
        h('button', { class: 'icon-btn', type: 'button', title: 'Copy span id', 'aria-label': 'Copy span id',
          onclick: async () => toast((await copyText(s.spanId)) ? 'Span id copied' : 'Copy failed') }, 'copy'))],
      ['Parent', s.parentSpanId ? h('code', { class: 'mono', text: s.parentSpanId }) : '—'],
      ['Kind', s.kind ?? '—'],
      ['Start', `${formatDateTime(node.start)} (${formatOffset(offset)})`],
      ['Duration', `${formatDuration(node.dur)} · self ${formatDuration(node.self)}${node.critical ? ' · on the critical path' : ''}`],
      ['Status', s.status ?? 'unset'],
    ];
    if (s.statusMessage) rows.push(['Message', h('span', { class: 'error-text', text: s.statusMessage })]);
    const fault = injectedFault(s);
    if (fault) {
      rows.push(['Injected', h('span', { class: 'fault-text' },
        [fault.delayMs ? `delay ${formatDuration(fault.delayMs)}` : null, fault.failure ? 'failure' : null].filter(Boolean).join(' + ') || 'no effect',
        ' · fault ', h('code', { class: 'mono', text: fault.id }))]);
    }
    if (s.source) rows.push(['Source', String(s.source)]);
    if (s.instance) rows.push(['Instance', String(s.instance)]);
    const parts = [
      h('div', { class: 'detail-title' },
        h('h3', { text: String(s.name ?? '') || '(unnamed)' }), componentTag(s.component), statusBadge(s.status),
        h('button', { class: 'btn btn-small', type: 'button', title: 'Copy this span as JSON',
          onclick: async () => toast((await copyText(JSON.stringify(s, null, 2))) ? 'Span JSON copied' : 'Copy failed') }, 'Copy JSON')),
      fault ? h('p', { class: 'fault-callout', role: 'note' }, h('strong', { text: '⚡ Injected on purpose' }), ' ', describeInjection(fault)) : null,
      h('dl', { class: 'kv' }, rows.map(([k, v]) => h('div', null, h('dt', { text: k }), h('dd', null, v)))),
      h('h4', { text: 'Attributes' }),
      attributesTable(s.attributes),
    ];
    const events = Array.isArray(s.events) ? s.events : [];
    parts.push(h('h4', { text: `Events (${events.length})` }));
    if (!events.length) parts.push(h('p', { class: 'muted small', text: 'No events.' }));
    else {
      const sorted = events.slice().sort((a, b) => (parseTime(a?.timestamp) || 0) - (parseTime(b?.timestamp) || 0));
      parts.push(h('ol', { class: 'events' }, sorted.map((ev) => {
        const isExc = String(ev?.name ?? '').toLowerCase() === 'exception';
        return h('li', { class: isExc ? 'is-error' : null },
          h('div', { class: 'event-head' },
            h('span', { class: 'event-time', text: formatOffset(parseTime(ev?.timestamp) - this.t0) }),
            h('span', { class: 'event-name', text: String(ev?.name ?? '') })),
          ev?.attributes && Object.keys(ev.attributes).length ? attributesTable(ev.attributes) : null);
      })));
    }
    const links = Array.isArray(s.links) ? s.links : [];
    if (links.length) {
      parts.push(h('h4', { text: `Links (${links.length})` }));
      parts.push(h('ul', { class: 'links' }, links.map((l) => {
        const tid = String(l?.traceId ?? '');
        const item = h('li', null);
        if (tid && tid !== this.traceId && !this.compact) {
          item.append(h('button', { class: 'link-btn', type: 'button', title: 'Open linked trace', onclick: () => this.onAction?.('open', tid) },
            h('code', { class: 'mono', text: tid })));
        } else item.append(h('code', { class: 'mono', text: tid || '—' }));
        if (l?.spanId) item.append(' / ', h('code', { class: 'mono', text: String(l.spanId) }));
        return item;
      })));
    }
    this.detailEl.replaceChildren(...parts.filter(Boolean));
  }
}

// Log entries and exceptions recorded on a span, shown as rows under it.
function inlineEvents(span) {
  const evs = Array.isArray(span.events) ? span.events : [];
  return evs.filter((ev) => ev && (String(ev.name).toLowerCase() === 'exception' || ev.attributes?.['log.level'] != null))
    .sort((a, b) => (parseTime(a.timestamp) || 0) - (parseTime(b.timestamp) || 0));
}

export function attributesTable(attrs) {
  const entries = attrs && typeof attrs === 'object' ? Object.entries(attrs) : [];
  if (!entries.length) return h('p', { class: 'muted small', text: 'No attributes.' });
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return h('table', { class: 'attrs' },
    h('tbody', null, entries.map(([k, v]) => h('tr', null,
      h('th', { scope: 'row', text: k }),
      h('td', { text: typeof v === 'string' ? v : JSON.stringify(v) })))));
}

function countDescendants(node) {
  let n = 0;
  const stack = [...node.children];
  while (stack.length && n < 100000) { const c = stack.pop(); n++; stack.push(...c.children); }
  return n;
}

function clamp(v, lo, hi) {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
}
