// Live trace list: keeps up to `maxKept` summaries, filters and sorts them on
// the client and renders only the rows in view (virtual scrolling), so tens of
// thousands of traces stay smooth.
import { h, statusBadge } from './dom.js';
import { parseTime, formatClock, formatDuration, formatCount } from './format.js';

export const ROW_H = 26;
const OVERSCAN = 8;

export const emptyFilters = () => ({ q: '', name: '', errors: false, component: '', min: '', max: '', attr: '', range: '', from: '', to: '', sort: 'time' });

export class TraceList {
  constructor({ scroller, spacer, emptyEl, countEl, onSelect, maxKept = 20000 }) {
    this.scroller = scroller;
    this.spacer = spacer;
    this.emptyEl = emptyEl;
    this.countEl = countEl;
    this.onSelect = onSelect;
    this.maxKept = maxKept;
    this.items = new Map(); // traceId -> { s, t }
    this.view = []; // filtered + sorted items
    this.dirty = true;
    this.filters = emptyFilters();
    this.serverIds = null; // Set of ids matching server-side filters (q, attr), or null
    this.selectedId = null;
    this.cursor = 0;
    this.frame = 0;
    this.rendered = new Map(); // index -> row element

    scroller.addEventListener('scroll', () => this.schedule());
    scroller.addEventListener('click', (e) => {
      const row = e.target.closest('.trow[data-id]');
      if (!row) return;
      this.cursor = Number(row.dataset.index);
      this.onSelect?.(row.dataset.id);
    });
    scroller.addEventListener('keydown', (e) => this.#onKey(e));
    new ResizeObserver(() => this.schedule()).observe(scroller);
  }

  get size() { return this.items.size; }
  get(id) { return this.items.get(id)?.s; }
  clear() { this.items.clear(); this.dirty = true; this.schedule(); }

  // Inserts or replaces summaries by traceId (newer versions win unless `force`).
  upsert(summaries, force = false) {
    const changed = new Set();
    for (const s of summaries) {
      if (!s || typeof s.traceId !== 'string') continue;
      const prev = this.items.get(s.traceId);
      const pv = prev?.s.version, nv = s.version;
      if (!force && typeof pv === 'number' && typeof nv === 'number' && nv < pv) continue;
      this.items.set(s.traceId, { s, t: parseTime(s.startTime) });
      changed.add(s.traceId);
    }
    if (changed.size) {
      if (this.items.size > this.maxKept) this.#trim();
      this.dirty = true;
      this.schedule();
    }
    return changed;
  }

  #trim() {
    const arr = [...this.items.values()].sort((a, b) => (a.t || 0) - (b.t || 0));
    for (const it of arr.slice(0, this.items.size - this.maxKept)) {
      if (it.s.traceId !== this.selectedId) this.items.delete(it.s.traceId);
    }
  }

  setFilters(filters, serverIds) {
    this.filters = { ...filters };
    this.serverIds = serverIds;
    this.dirty = true;
    this.schedule();
  }

  setSelected(id) {
    this.selectedId = id || null;
    const idx = this.view.findIndex((it) => it.s.traceId === this.selectedId);
    if (idx >= 0) this.cursor = idx;
    this.schedule();
  }

  // The filtered, sorted summaries (for export, compare and replay).
  visibleSummaries() {
    this.#refilter();
    return this.view.map((it) => it.s);
  }

  matches(s, t) {
    const f = this.filters;
    if (f.errors && s.status !== 'error') return false;
    if (f.name) {
      const n = f.name.toLowerCase();
      if (!String(s.name ?? '').toLowerCase().includes(n) && !String(s.route ?? '').toLowerCase().includes(n)) return false;
    }
    const min = parseFloat(f.min), max = parseFloat(f.max);
    if (Number.isFinite(min) && !(s.durationMs >= min)) return false;
    if (Number.isFinite(max) && !(s.durationMs <= max)) return false;
    if (f.component && !(Array.isArray(s.components) && s.components.includes(f.component))) return false;
    if (f.range === 'custom') {
      const from = Date.parse(f.from), to = Date.parse(f.to);
      if (Number.isFinite(from) && !(t >= from)) return false;
      if (Number.isFinite(to) && !(t <= to)) return false;
    } else {
      const range = parseFloat(f.range);
      if (Number.isFinite(range) && !(t >= Date.now() - range * 60000)) return false;
    }
    if (this.serverIds && !this.serverIds.has(s.traceId)) return false;
    return true;
  }

  #refilter() {
    if (!this.dirty) return;
    this.dirty = false;
    const out = [];
    for (const it of this.items.values()) if (this.matches(it.s, it.t)) out.push(it);
    if (this.filters.sort === 'duration') out.sort((a, b) => (b.s.durationMs || 0) - (a.s.durationMs || 0) || (b.t || 0) - (a.t || 0));
    else out.sort((a, b) => (b.t || 0) - (a.t || 0) || (a.s.traceId < b.s.traceId ? -1 : 1));
    const selId = this.view[this.cursor]?.s.traceId;
    this.view = out;
    const idx = selId ? out.findIndex((it) => it.s.traceId === selId) : -1;
    this.cursor = idx >= 0 ? idx : Math.min(this.cursor, Math.max(out.length - 1, 0));
    // Keep the row elements (a click in progress must land on the same element); refill them.
    for (const row of this.rendered.values()) row._s = null;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    this.#refilter();
    const n = this.view.length;
    this.spacer.style.height = `${n * ROW_H}px`;
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(n - 1, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    for (const [i, row] of this.rendered) {
      if (i < first || i > last) { row.remove(); this.rendered.delete(i); }
    }
    for (let i = first; i <= last; i++) {
      const item = this.view[i];
      let row = this.rendered.get(i);
      if (!row) {
        row = this.#createRow();
        this.rendered.set(i, row);
        this.spacer.append(row);
      }
      if (row._s !== item.s || row._i !== i) this.#fillRow(row, item, i);
      const sel = item.s.traceId === this.selectedId;
      row.classList.toggle('selected', sel);
      row.classList.toggle('cursor', i === this.cursor);
      row.setAttribute('aria-selected', sel ? 'true' : 'false');
    }
    // Keep the DOM in visual order for assistive technology.
    let prev = null;
    for (let i = first; i <= last; i++) {
      const row = this.rendered.get(i);
      if (row.previousElementSibling !== prev) this.spacer.insertBefore(row, prev ? prev.nextSibling : this.spacer.firstChild);
      prev = row;
    }
    const cur = this.rendered.get(this.cursor);
    if (cur) this.scroller.setAttribute('aria-activedescendant', cur.id);
    else this.scroller.removeAttribute('aria-activedescendant');

    const total = this.items.size;
    this.emptyEl.hidden = n > 0;
    this.emptyEl.textContent = total === 0 ? 'Waiting for traces…' : 'No traces match the filters.';
    this.countEl.textContent = n === total ? `${formatCount(total)} traces` : `${formatCount(n)} of ${formatCount(total)}`;
  }

  #createRow() {
    const row = h('div', { class: 'trow', role: 'option' });
    row.append(
      h('span', { class: 'c-time' }), h('span', { class: 'c-name' }), h('span', { class: 'c-status' }),
      h('span', { class: 'c-dur' }, h('span', { class: 'dur-text' }), h('span', { class: 'dur-bar' })),
      h('span', { class: 'c-spans' }));
    return row;
  }

  #fillRow(row, { s, t }, i) {
    row._s = s;
    row._i = i;
    row.id = `trow-${i}`;
    row.dataset.id = s.traceId;
    row.dataset.index = String(i);
    row.style.transform = `translateY(${i * ROW_H}px)`;
    const [time, name, status, dur, spans] = row.children;
    time.textContent = formatClock(t);
    const label = String(s.name ?? '') || '(unnamed)';
    name.textContent = label;
    const title = [label];
    if (s.method || s.route) title.push(`${s.method ?? ''} ${s.route ?? ''}`.trim());
    if (s.statusCode != null) title.push(`HTTP ${s.statusCode}`);
    if (Array.isArray(s.components) && s.components.length) title.push(s.components.join(', '));
    name.title = title.join(' · ');
    status.replaceChildren(statusBadge(s.status));
    dur.firstChild.textContent = formatDuration(s.durationMs);
    // Log-scaled bar: 1 ms .. 10 s.
    const d = Math.max(Number(s.durationMs) || 0, 0.001);
    dur.lastChild.style.width = `${Math.min(100, Math.max(2, ((Math.log10(d) + 1) / 5) * 100))}%`;
    spans.textContent = formatCount(s.spanCount);
    row.classList.toggle('is-error', s.status === 'error');
  }

  #onKey(e) {
    const n = this.view.length;
    if (!n) return;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_H) - 1);
    let c = this.cursor;
    switch (e.key) {
      case 'ArrowDown': case 'j': c++; break;
      case 'ArrowUp': case 'k': c--; break;
      case 'PageDown': c += page; break;
      case 'PageUp': c -= page; break;
      case 'Home': c = 0; break;
      case 'End': c = n - 1; break;
      case 'Enter': case ' ':
        e.preventDefault();
        this.onSelect?.(this.view[this.cursor].s.traceId);
        return;
      default: return;
    }
    e.preventDefault();
    this.cursor = Math.max(0, Math.min(n - 1, c));
    const y = this.cursor * ROW_H;
    if (y < this.scroller.scrollTop) this.scroller.scrollTop = y;
    else if (y + ROW_H > this.scroller.scrollTop + this.scroller.clientHeight) this.scroller.scrollTop = y + ROW_H - this.scroller.clientHeight;
    this.schedule();
  }

  focus() { this.scroller.focus(); }
}
