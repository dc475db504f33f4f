// Trace detail panel: header, span tree with a mini waterfall, span details.
import { h, clear, statusBadge } from './dom.js';
import { fetchTrace } from './api.js';
import { parseTime, formatDuration, formatOffset, formatDateTime, formatCount } from './format.js';

const INDENT_PX = 14;

// Builds a forest from spans in any order. Spans whose parent is missing (or
// that sit in a parent cycle) become roots. Children are sorted by start time.
export function buildTree(spans) {
  const nodes = new Map();
  for (const span of spans) {
    if (!span || typeof span.spanId !== 'string' || nodes.has(span.spanId)) continue;
    nodes.set(span.spanId, { span, start: parseTime(span.startTime), children: [], depth: 0 });
  }
  const roots = [];
  for (const node of nodes.values()) {
    const pid = node.span.parentSpanId;
    const parent = pid && pid !== node.span.spanId ? nodes.get(pid) : null;
    if (parent) parent.children.push(node);
    else roots.push(node);
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
  // Anything unreached is part of a parent cycle: surface it as a root.
  for (const node of nodes.values()) {
    if (!seen.has(node)) {
      roots.push(node);
      walk([node], 0);
    }
  }
  return { nodes, roots, order };
}

export class TraceView {
  constructor(container, { onSpanSelect, onOpenTrace, onClose } = {}) {
    this.el = container;
    this.onSpanSelect = onSpanSelect;
    this.onOpenTrace = onOpenTrace;
    this.onClose = onClose;
    this.traceId = null;
    this.spanId = null;
    this.data = null;
    this.tree = null;
    this.collapsed = new Set();
    this.abort = null;
    this.refreshTimer = null;
    this.showEmpty();
  }

  showEmpty() {
    this.#cancel();
    this.traceId = null;
    this.spanId = null;
    this.data = null;
    this.el.replaceChildren(h('p', { class: 'empty', text: 'Select a trace to see its spans.' }));
  }

  async show(traceId, spanId = null) {
    if (traceId === this.traceId && this.data) {
      if (spanId !== this.spanId) this.selectSpan(spanId, { notify: false });
      return;
    }
    this.traceId = traceId;
    this.spanId = spanId;
    this.collapsed.clear();
    this.data = null;
    this.el.replaceChildren(h('p', { class: 'empty loading', text: 'Loading trace…' }));
    await this.#load();
  }

  // Re-fetch the current trace (e.g. late spans arrived), coalescing bursts.
  refreshSoon() {
    if (!this.traceId || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.#load();
    }, 250);
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
      const data = await fetchTrace(traceId, ctrl.signal);
      if (ctrl.signal.aborted || traceId !== this.traceId) return;
      this.data = data;
      this.#render();
    } catch (err) {
      if (ctrl.signal.aborted || err?.name === 'AbortError' || traceId !== this.traceId) return;
      if (this.data) {
        this.#flash(`Refresh failed: ${describeError(err)}`);
        return;
      }
      const msg = err?.status === 404
        ? 'Trace not found. It may have been evicted from the buffer.'
        : `Could not load the trace: ${describeError(err)}`;
      this.el.replaceChildren(this.#closeBar(), h('div', { class: 'error-box', role: 'alert' },
        h('p', { text: msg }), h('p', { class: 'muted' }, 'Trace ID: ', h('code', { text: traceId }))));
    } finally {
      if (this.abort === ctrl) this.abort = null;
    }
  }

  #flash(text) {
    const old = this.el.querySelector('.flash');
    if (old) old.remove();
    const note = h('p', { class: 'flash', role: 'status', text });
    this.el.prepend(note);
    setTimeout(() => note.remove(), 4000);
  }

  #closeBar() {
    return h('div', { class: 'close-bar' },
      h('button', { class: 'btn btn-small', type: 'button', 'aria-label': 'Close trace', title: 'Close (Esc)', onclick: () => this.onClose?.() }, '✕'));
  }

  #render() {
    const { summary = {}, spans = [] } = this.data;
    const tree = buildTree(Array.isArray(spans) ? spans : []);
    this.tree = tree;

    // Time frame of the waterfall.
    let t0 = parseTime(summary.startTime);
    let t1 = Number.isFinite(t0) && Number.isFinite(summary.durationMs) ? t0 + summary.durationMs : NaN;
    for (const node of tree.nodes.values()) {
      if (!Number.isFinite(node.start)) continue;
      if (!(node.start >= t0)) t0 = node.start;
      const end = node.start + (Number(node.span.durationMs) || 0);
      if (!(end <= t1)) t1 = end;
    }
    this.t0 = Number.isFinite(t0) ? t0 : 0;
    this.total = Number.isFinite(t1) && t1 > this.t0 ? t1 - this.t0 : Math.max(Number(summary.durationMs) || 0, 0.001);

    const scroll = this.el.querySelector('.span-tree')?.scrollTop ?? 0;
    const paneScroll = this.el.scrollTop;

    const header = this.#renderHeader(summary, tree);
    const treeEl = h('div', { class: 'span-tree', role: 'tree', 'aria-label': 'Spans' });
    this.treeEl = treeEl;
    treeEl.addEventListener('click', (e) => this.#onTreeClick(e));
    treeEl.addEventListener('keydown', (e) => this.#onTreeKey(e));
    this.#renderRows();
    this.detailEl = h('div', { class: 'span-detail', 'aria-live': 'polite' });

    this.el.replaceChildren(header, this.#renderScale(), treeEl, this.detailEl);
    treeEl.scrollTop = scroll;
    this.el.scrollTop = paneScroll;

    if (this.spanId && !tree.nodes.has(this.spanId)) this.spanId = null;
    this.selectSpan(this.spanId, { notify: false, scroll: false });
  }

  #renderHeader(summary, tree) {
    const name = String(summary.name ?? '') || '(unnamed)';
    const spanCount = summary.spanCount ?? tree.nodes.size;
    const meta = [
      ['Trace ID', h('code', { class: 'mono', text: this.data.traceId ?? this.traceId })],
      ['Duration', formatDuration(summary.durationMs)],
      ['Spans', formatCount(spanCount)],
      ['Errors', formatCount(summary.errorCount ?? 0)],
      ['Started', formatDateTime(parseTime(summary.startTime))],
    ];
    if (summary.method || summary.route) meta.push(['Route', `${summary.method ?? ''} ${summary.route ?? ''}`.trim()]);
    if (summary.statusCode != null) meta.push(['HTTP status', String(summary.statusCode)]);
    if (summary.instance) meta.push(['Instance', String(summary.instance)]);

    const components = Array.isArray(summary.components)
      ? h('div', { class: 'tags' }, summary.components.map((c) => componentTag(c)))
      : null;

    return h('header', { class: 'trace-header' },
      h('div', { class: 'trace-title' },
        h('h2', { text: name, title: name }),
        statusBadge(summary.status),
        this.#closeBar()),
      h('dl', { class: 'meta' }, meta.map(([k, v]) => h('div', null, h('dt', { text: k }), h('dd', null, v)))),
      components);
  }

  #renderScale() {
    const scale = h('div', { class: 'span-row span-scale', 'aria-hidden': 'true' },
      h('div', { class: 'sc-name', text: 'Span' }),
      h('div', { class: 'sc-comp', text: 'Component' }),
      h('div', { class: 'sc-dur', text: 'Duration' }));
    const ticks = h('div', { class: 'sc-bar ticks' });
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const tick = h('span', { class: 'tick', text: f === 0 ? '0' : formatDuration(this.total * f) });
      tick.style.left = `${f * 100}%`;
      if (f === 1) tick.classList.add('tick-end');
      ticks.append(tick);
    }
    scale.append(ticks);
    return scale;
  }

  #renderRows() {
    const rows = [];
    const hiddenUnder = [];
    for (const node of this.tree.order) {
      while (hiddenUnder.length && node.depth <= hiddenUnder[hiddenUnder.length - 1]) hiddenUnder.pop();
      if (hiddenUnder.length) continue;
      rows.push(this.#renderRow(node));
      if (this.collapsed.has(node.span.spanId) && node.children.length) hiddenUnder.push(node.depth);
    }
    this.treeEl.replaceChildren(...rows);
    if (!rows.length) this.treeEl.append(h('p', { class: 'empty', text: 'This trace has no spans yet.' }));
  }

  #renderRow(node) {
    const s = node.span;
    const hasKids = node.children.length > 0;
    const collapsed = this.collapsed.has(s.spanId);
    const isError = s.status === 'error';
    const row = h('div', {
      class: `span-row${isError ? ' is-error' : ''}${s.spanId === this.spanId ? ' selected' : ''}`,
      role: 'treeitem',
      tabindex: s.spanId === this.spanId ? '0' : '-1',
      'aria-level': String(node.depth + 1),
      'aria-selected': s.spanId === this.spanId ? 'true' : 'false',
      'aria-expanded': hasKids ? String(!collapsed) : null,
      dataset: { spanId: s.spanId },
    });
    const nameCell = h('div', { class: 'sc-name' });
    nameCell.style.paddingLeft = `${4 + node.depth * INDENT_PX}px`;
    if (hasKids) {
      nameCell.append(h('button', {
        class: 'toggle', type: 'button', tabindex: '-1',
        'aria-label': collapsed ? 'Expand' : 'Collapse',
        text: collapsed ? '▸' : '▾',
      }));
    } else {
      nameCell.append(h('span', { class: 'toggle-spacer', 'aria-hidden': 'true' }));
    }
    const label = String(s.name ?? '') || '(unnamed)';
    nameCell.append(h('span', { class: 'span-name', text: label }));
    if (collapsed) nameCell.append(h('span', { class: 'collapsed-count', text: `+${countDescendants(node)}` }));
    nameCell.title = label;

    const offset = Number.isFinite(node.start) ? node.start - this.t0 : 0;
    const dur = Number(s.durationMs) || 0;
    const bar = h('div', { class: 'bar', dataset: { component: s.component || 'custom' } });
    const left = clamp((offset / this.total) * 100, 0, 100);
    bar.style.left = `${left}%`;
    bar.style.width = `${Math.max(clamp((dur / this.total) * 100, 0, 100 - left), 0.25)}%`;
    const track = h('div', { class: 'sc-bar', title: `${formatOffset(offset)} · ${formatDuration(dur)}` }, bar);
    for (const ev of Array.isArray(s.events) ? s.events : []) {
      const et = parseTime(ev?.timestamp);
      if (!Number.isFinite(et)) continue;
      const mark = h('span', { class: 'event-mark' });
      mark.style.left = `${clamp(((et - this.t0) / this.total) * 100, 0, 100)}%`;
      track.append(mark);
    }

    row.append(
      nameCell,
      h('div', { class: 'sc-comp' }, componentTag(s.component)),
      h('div', { class: 'sc-dur', text: formatDuration(dur) }),
      track);
    return row;
  }

  selectSpan(spanId, { notify = true, scroll = true } = {}) {
    if (!this.tree) return;
    const node = spanId ? this.tree.nodes.get(spanId) : null;
    this.spanId = node ? spanId : null;
    // Make sure the selected row is visible (expand collapsed ancestors).
    if (node) {
      let p = node.span.parentSpanId && this.tree.nodes.get(node.span.parentSpanId);
      let expanded = false;
      const guard = new Set();
      while (p && !guard.has(p)) {
        guard.add(p);
        if (this.collapsed.delete(p.span.spanId)) expanded = true;
        p = p.span.parentSpanId && this.tree.nodes.get(p.span.parentSpanId);
      }
      if (expanded) this.#renderRows();
    }
    let selectedRow = null;
    for (const row of this.treeEl.querySelectorAll('.span-row')) {
      const sel = row.dataset.spanId === this.spanId;
      row.classList.toggle('selected', sel);
      row.setAttribute('aria-selected', sel ? 'true' : 'false');
      row.tabIndex = sel ? 0 : -1;
      if (sel) selectedRow = row;
    }
    if (!selectedRow) this.treeEl.querySelector('.span-row')?.setAttribute('tabindex', '0');
    if (selectedRow && scroll) selectedRow.scrollIntoView({ block: 'nearest' });
    this.#renderDetail(node);
    if (notify) this.onSpanSelect?.(this.spanId);
  }

  #renderDetail(node) {
    if (!node) {
      this.detailEl.replaceChildren(h('p', { class: 'empty small', text: 'Select a span to see its attributes and events.' }));
      return;
    }
    const s = node.span;
    const offset = Number.isFinite(node.start) ? node.start - this.t0 : NaN;
    const rows = [
      ['Span ID', h('code', { class: 'mono', text: s.spanId })],
      ['Parent', s.parentSpanId ? h('code', { class: 'mono', text: s.parentSpanId }) : '—'],
      ['Kind', s.kind ?? '—'],
      ['Start', `${formatDateTime(node.start)} (${formatOffset(offset)})`],
      ['Duration', formatDuration(s.durationMs)],
      ['Status', s.status ?? 'unset'],
    ];
    if (s.statusMessage) rows.push(['Message', h('span', { class: 'error-text', text: s.statusMessage })]);
    if (s.source) rows.push(['Source', String(s.source)]);
    if (s.instance) rows.push(['Instance', String(s.instance)]);

    const parts = [
      h('div', { class: 'detail-title' },
        h('h3', { text: String(s.name ?? '') || '(unnamed)' }),
        componentTag(s.component),
        statusBadge(s.status)),
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
        const et = parseTime(ev?.timestamp);
        const isExc = String(ev?.name ?? '').toLowerCase() === 'exception';
        return h('li', { class: isExc ? 'is-error' : null },
          h('div', { class: 'event-head' },
            h('span', { class: 'event-time', text: formatOffset(et - this.t0) }),
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
        if (tid && tid !== this.traceId) {
          item.append(h('button', { class: 'link-btn', type: 'button', title: 'Open linked trace', onclick: () => this.onOpenTrace?.(tid, l?.spanId || null) },
            h('code', { class: 'mono', text: tid })));
        } else {
          item.append(h('code', { class: 'mono', text: tid || '—' }));
        }
        if (l?.spanId) item.append(' / ', h('code', { class: 'mono', text: String(l.spanId) }));
        return item;
      })));
    }
    this.detailEl.replaceChildren(...parts);
  }

  #onTreeClick(e) {
    const row = e.target.closest('.span-row[data-span-id]');
    if (!row) return;
    const id = row.dataset.spanId;
    if (e.target.closest('.toggle')) {
      this.#toggle(id);
      return;
    }
    this.selectSpan(id);
  }

  #toggle(spanId, force) {
    const isCollapsed = this.collapsed.has(spanId);
    const collapse = force ?? !isCollapsed;
    if (collapse === isCollapsed) return;
    if (collapse) this.collapsed.add(spanId);
    else this.collapsed.delete(spanId);
    this.#renderRows();
    // Keep the current selection visible and keyboard focus on the toggled row.
    const sel = this.spanId && this.treeEl.querySelector(`.span-row[data-span-id="${CSS.escape(this.spanId)}"]`);
    if (!sel) {
      this.spanId = null;
      this.#renderDetail(null);
    }
    const row = this.treeEl.querySelector(`.span-row[data-span-id="${CSS.escape(spanId)}"]`);
    if (row) {
      for (const r of this.treeEl.querySelectorAll('.span-row[tabindex="0"]')) r.tabIndex = -1;
      row.tabIndex = 0;
      row.focus();
    }
  }

  #onTreeKey(e) {
    const row = e.target.closest('.span-row[data-span-id]');
    if (!row) return;
    const id = row.dataset.spanId;
    let next = null;
    switch (e.key) {
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.selectSpan(id);
        row.focus();
        return;
      case 'ArrowDown': next = row.nextElementSibling; break;
      case 'ArrowUp': next = row.previousElementSibling; break;
      case 'ArrowRight': e.preventDefault(); this.#toggle(id, false); return;
      case 'ArrowLeft': e.preventDefault(); this.#toggle(id, true); return;
      case 'Home': next = this.treeEl.firstElementChild; break;
      case 'End': next = this.treeEl.lastElementChild; break;
      default: return;
    }
    e.preventDefault();
    if (next && next.matches('.span-row')) {
      row.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  }
}

function componentTag(component) {
  const c = String(component || 'custom');
  return h('span', { class: 'tag', dataset: { component: c }, text: c });
}

function attributesTable(attrs) {
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
  const seen = new Set();
  while (stack.length) {
    const c = stack.pop();
    if (seen.has(c)) continue;
    seen.add(c);
    n++;
    stack.push(...c.children);
  }
  return n;
}

function clamp(v, lo, hi) {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
}

function describeError(err) {
  if (!err) return 'unknown error';
  if (err.status) return err.message;
  if (err instanceof TypeError) return 'the server is unreachable';
  return err.message || String(err);
}
