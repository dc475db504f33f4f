// Compare: two traces of the same operation side by side. Spans are matched by
// their path of names from the root (plus occurrence index); the table shows
// both durations, the difference, and spans present in one trace only. Both
// time lines share one scale (a toggle gives each its own). B defaults to the
// trace of the same route closest in shape to A.
import { h, componentTag } from './dom.js';
import { source, buildTree } from './model.js';
import { formatDuration, formatClock, parseTime } from './format.js';

const MAX_CHOICES = 300;

export class CompareView {
  constructor(container, { getSummaries, getAllSummaries, onChange, onOpenTrace }) {
    this.el = container;
    this.getSummaries = getSummaries;
    this.getAllSummaries = getAllSummaries ?? getSummaries;
    this.ownScales = false;
    this.loaded = null;
    this.onChange = onChange;
    this.onOpenTrace = onOpenTrace;
    this.a = null;
    this.b = null;
    this.selA = h('select', { id: 'compare-a', 'aria-label': 'Trace A' });
    this.selB = h('select', { id: 'compare-b', 'aria-label': 'Trace B' });
    this.selA.addEventListener('change', () => this.setPair(this.selA.value, this.#defaultB(this.selA.value, this.selB.value)));
    this.selB.addEventListener('change', () => this.setPair(this.selA.value, this.selB.value));
    this.body = h('div', { class: 'compare-body' });
    this.el.replaceChildren(
      h('div', { class: 'compare-bar' },
        h('h2', { text: 'Compare' }),
        h('label', { class: 'pick' }, h('span', { class: 'pill pill-a', text: 'A' }), this.selA),
        h('label', { class: 'pick' }, h('span', { class: 'pill pill-b', text: 'B' }), this.selB),
        h('button', { class: 'btn btn-small', type: 'button', title: 'Swap A and B', onclick: () => this.setPair(this.b, this.a) }, '⇄ Swap'),
        this.scaleToggle = h('label', { class: 'check', title: 'Draw each trace on its own time scale instead of one shared scale' },
          h('input', { type: 'checkbox', id: 'compare-own-scale', onchange: (e) => { this.ownScales = e.target.checked; if (this.loaded) this.#render(...this.loaded); } }),
          ' each on its own scale')),
      this.body);
    this.#renderEmpty();
  }

  #renderEmpty() {
    this.body.replaceChildren(h('p', { class: 'empty', text: 'Pick two traces of the same operation — or open a trace and press Compare.' }));
  }

  // The trace of A's route (or name) closest in shape to A: span count, components
  // and status alike; of equally close ones, the one that ran nearest in time.
  #defaultB(a, current) {
    const sums = this.getAllSummaries();
    const sa = sums.find((s) => s.traceId === a);
    if (!sa) return current;
    const same = sums.filter((s) => s.traceId !== a && sameOperation(s, sa));
    if (current && same.some((s) => s.traceId === current)) return current;
    const at = parseTime(sa.startTime);
    let best = null, bestScore = Infinity;
    for (const s of same) {
      const score = shapeDistance(sa, s) * 1e6 + Math.abs(parseTime(s.startTime) - at) / 1000;
      if (score < bestScore) { best = s; bestScore = score; }
    }
    return best?.traceId ?? null;
  }

  // Opens with trace A and, as B, the trace of the same operation closest in shape.
  open(a, b = null) {
    this.setPair(a, b ?? this.#defaultB(a, null));
  }

  #fillSelects() {
    const sums = this.getSummaries().slice(0, MAX_CHOICES);
    const opt = (s) => h('option', { value: s.traceId, text: `${formatClock(parseTime(s.startTime))} · ${s.name ?? '(unnamed)'} · ${formatDuration(s.durationMs)}${s.status === 'error' ? ' · error' : ''}` });
    const sa = sums.find((s) => s.traceId === this.a) ?? this.getAllSummaries().find((s) => s.traceId === this.a);
    const listA = !this.a || sums.some((s) => s.traceId === this.a) ? sums : [sa ?? { traceId: this.a, name: this.a }, ...sums];
    this.selA.replaceChildren(h('option', { value: '', text: '— trace A —' }), ...listA.map(opt));
    this.selA.value = this.a ?? '';
    const name = sa?.name;
    const listB = (sa ? this.getAllSummaries() : sums).filter((s) => s.traceId !== this.a && (!sa || sameOperation(s, sa))).slice(0, MAX_CHOICES);
    if (this.b && !listB.some((s) => s.traceId === this.b)) listB.unshift({ traceId: this.b, name: this.b });
    this.selB.replaceChildren(h('option', { value: '', text: name ? `— another "${name}" —` : '— trace B —' }), ...listB.map(opt));
    this.selB.value = this.b ?? '';
  }

  refreshChoices() { this.#fillSelects(); }

  async setPair(a, b) {
    this.a = a || null;
    this.b = b || null;
    this.#fillSelects();
    this.onChange?.(this.a, this.b);
    if (!this.a || !this.b) {
      this.body.replaceChildren(h('p', { class: 'empty', text: this.a ? 'No other trace of this operation to compare with yet — pick one as B.' : 'Pick two traces to compare.' }));
      return;
    }
    this.body.replaceChildren(h('p', { class: 'empty loading', text: 'Loading…' }));
    const req = `${this.a}|${this.b}`;
    this.req = req;
    try {
      const [ta, tb] = await Promise.all([source.loadTrace(this.a), source.loadTrace(this.b)]);
      if (this.req !== req) return;
      this.loaded = [ta, tb];
      this.#render(ta, tb);
    } catch (err) {
      if (this.req !== req) return;
      this.body.replaceChildren(h('div', { class: 'error-box', role: 'alert', text: `Could not load both traces: ${err?.message || err}` }));
    }
  }

  #render(ta, tb) {
    const rows = diffTraces(ta, tb);
    const totalA = traceTotal(ta), totalB = traceTotal(tb);
    // One scale for both unless asked: a 1 ms trace then draws a tenth as long as a 10 ms one.
    const scaleA = this.ownScales ? totalA : Math.max(totalA, totalB);
    const scaleB = this.ownScales ? totalB : Math.max(totalA, totalB);
    const onlyA = rows.filter((r) => r.a && !r.b).length, onlyB = rows.filter((r) => r.b && !r.a).length;
    const both = rows.filter((r) => r.a && r.b).sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
    const nameA = ta.summary?.name ?? '', nameB = tb.summary?.name ?? '';
    const summary = h('div', { class: 'compare-summary' },
      card('A', ta, totalA, this.onOpenTrace), card('B', tb, totalB, this.onOpenTrace),
      h('div', { class: 'compare-card' },
        h('h3', { text: 'Differences' }),
        h('p', null, h('strong', { text: `${fmtDelta(totalB - totalA)}` }), ` total (${pct(totalA, totalB)})`),
        h('p', { class: 'small', text: `${onlyA} span(s) only in A · ${onlyB} only in B · ${both.length} matched` }),
        nameA !== nameB ? h('p', { class: 'warn-text small', text: 'These traces are different operations.' }) : null,
        h('ol', { class: 'top-diffs small' }, both.slice(0, 5).filter((r) => Math.abs(r.delta) > 0).map((r) =>
          h('li', null, h('span', { text: r.name }), h('span', { class: r.delta > 0 ? 'slower' : 'faster', text: ` ${fmtDelta(r.delta)}` }))))));
    const table = h('div', { class: 'diff-table', role: 'table', 'aria-label': 'Span differences' },
      h('div', { class: 'diff-row diff-head', role: 'row' },
        ['Span', 'Component', 'A', 'B', 'Δ'].map((t) => h('span', { role: 'columnheader', text: t })),
        [['A', scaleA], ['B', scaleB]].map(([side, scale]) => h('span', { role: 'columnheader', class: 'timeline-head' },
          `${side} timeline`, h('span', { class: 'scale', text: `0 – ${formatDuration(scale)}` })))));
    const maxRows = 3000;
    for (const r of rows.slice(0, maxRows)) {
      const cls = r.a && r.b ? (Math.abs(r.delta) >= Math.max(1, 0.2 * Math.max(r.a.dur, r.b.dur)) ? (r.delta > 0 ? 'slower' : 'faster') : '') : r.a ? 'only-a' : 'only-b';
      const name = h('span', { class: 'diff-name', role: 'cell', title: r.key });
      name.style.paddingLeft = `${r.depth * 12 + 4}px`;
      name.append(h('span', { text: r.name }));
      if (!r.b) name.append(h('span', { class: 'pill pill-a small', text: 'only A' }));
      if (!r.a) name.append(h('span', { class: 'pill pill-b small', text: 'only B' }));
      table.append(h('div', { class: `diff-row ${cls}`, role: 'row' },
        name,
        h('span', { role: 'cell' }, componentTag(r.component)),
        h('span', { class: 'num', role: 'cell', text: r.a ? formatDuration(r.a.dur) : '—' }),
        h('span', { class: 'num', role: 'cell', text: r.b ? formatDuration(r.b.dur) : '—' }),
        h('span', { class: 'num delta', role: 'cell', text: r.a && r.b ? fmtDelta(r.delta) : '' }),
        bar(r.a, ta.t0, scaleA, 'a'), bar(r.b, tb.t0, scaleB, 'b')));
    }
    const more = rows.length > maxRows ? h('p', { class: 'muted small', text: `${rows.length - maxRows} more spans not shown.` }) : null;
    this.body.replaceChildren(summary, table, ...(more ? [more] : []));
  }
}

// The same operation: same method and route for requests, else the same name.
function sameOperation(x, y) {
  if (x.route || y.route) return x.route === y.route && (x.method ?? null) === (y.method ?? null);
  return x.name === y.name;
}

// How different two traces' shapes are (0: same span count, components and status).
function shapeDistance(a, b) {
  const spans = Math.abs((a.spanCount || 0) - (b.spanCount || 0)) / Math.max(1, a.spanCount || 0, b.spanCount || 0);
  const ca = new Set(a.components || []), cb = new Set(b.components || []);
  const union = new Set([...ca, ...cb]).size || 1;
  const common = [...ca].filter((c) => cb.has(c)).length;
  return 2 * spans + (1 - common / union) + (a.status === b.status ? 0 : 0.5);
}

function card(label, t, total, onOpen) {
  const s = t.summary ?? {};
  return h('div', { class: 'compare-card' },
    h('h3', null, h('span', { class: `pill pill-${label.toLowerCase()}`, text: label }), ' ', h('span', { text: String(s.name ?? '(unnamed)') })),
    h('p', { class: 'small' }, h('code', { class: 'mono', text: t.traceId })),
    h('p', { class: 'small', text: `${formatDuration(total)} · ${(t.spans || []).length} spans · ${s.status ?? 'unset'} · ${formatClock(parseTime(s.startTime))}` }),
    onOpen ? h('button', { class: 'btn btn-small', type: 'button', onclick: () => onOpen(t.traceId) }, 'Open') : null);
}

function bar(side, t0, total, cls) {
  const track = h('span', { class: 'diff-track', role: 'cell' });
  if (side) {
    const b = h('span', { class: `diff-bar diff-bar-${cls}` });
    b.style.left = `${Math.max(0, ((side.start - t0) / total) * 100)}%`;
    b.style.width = `${Math.max(0.5, (side.dur / total) * 100)}%`;
    track.append(b);
  }
  return track;
}

function traceTotal(t) {
  const tree = buildTree(t.spans || []);
  let a = Infinity, b = -Infinity;
  for (const n of tree.nodes.values()) if (Number.isFinite(n.start)) { a = Math.min(a, n.start); b = Math.max(b, n.end); }
  t.t0 = Number.isFinite(a) ? a : 0;
  return Math.max(Number.isFinite(a) ? b - a : 0, 0.001);
}

// Keys every span by its root path of names; the n-th sibling with the same
// name gets "#n". Returns rows in tree order (A's order, B-only rows after
// their matched parent).
export function diffTraces(ta, tb) {
  const keyed = (t) => {
    const tree = buildTree(t.spans || []);
    const map = new Map();
    const order = [];
    const walk = (nodes, prefix) => {
      const seen = new Map();
      for (const n of nodes) {
        const name = String(n.span.name ?? '');
        const k = seen.get(name) ?? 0;
        seen.set(name, k + 1);
        const key = `${prefix}/${name}${k ? '#' + (k + 1) : ''}`;
        map.set(key, n);
        order.push({ key, n });
        walk(n.children, key);
      }
    };
    walk(tree.roots, '');
    return { map, order };
  };
  const A = keyed(ta), B = keyed(tb);
  const rows = [];
  const used = new Set();
  const row = (key, a, b) => {
    const n = a ?? b;
    return { key, name: String(n.span.name ?? ''), component: n.span.component, depth: n.depth, a, b, delta: a && b ? b.dur - a.dur : 0 };
  };
  for (const { key, n } of A.order) {
    rows.push(row(key, n, B.map.get(key)));
    used.add(key);
  }
  // Insert B-only spans after the row of their parent path (or at the end).
  for (const { key, n } of B.order) {
    if (used.has(key)) continue;
    const parentKey = key.slice(0, key.lastIndexOf('/'));
    let at = rows.findIndex((r) => r.key === parentKey);
    if (at < 0) at = rows.length - 1;
    else while (at + 1 < rows.length && rows[at + 1].key.startsWith(parentKey + '/')) at++;
    rows.splice(at + 1, 0, row(key, null, n));
    used.add(key);
  }
  return rows;
}

function fmtDelta(d) {
  if (!Number.isFinite(d) || d === 0) return '±0';
  return `${d > 0 ? '+' : '−'}${formatDuration(Math.abs(d))}`;
}

function pct(a, b) {
  if (!a) return 'n/a';
  const p = ((b - a) / a) * 100;
  return `${p >= 0 ? '+' : ''}${p.toFixed(0)}%`;
}
