// Live trace list: keeps as many summaries as the store holds, filters and sorts
// them on the client and renders only the rows in view (virtual scrolling).
// It never moves under the user: while the pointer is over it, it has the
// keyboard focus, a trace is open or it is scrolled away from the top, new
// traces wait behind an "N new" button and evicted traces are marked, not
// removed, so a click or a key always opens the row aimed at.
import { h } from './dom.js';
import { parseTime, formatClock, formatDuration, formatCount } from './format.js';

export const ROW_H = 26;
const OVERSCAN = 8;
const DEFAULT_CAPACITY = 5000;

export const emptyFilters = () => ({
  q: '', name: '', errors: false, status: '', kind: '', nplus: false, component: '', min: '', max: '', attr: '',
  range: '', from: '', to: '', sort: 'time', routine: false, kept: '',
});

// Why the store kept a trace beyond the newest ones (api: keptBecause).
const KEPT_TITLES = {
  error: 'a span failed',
  slow: 'slower than its route usually is (or than the slow threshold)',
  sampled: 'one of the few ordinary traces kept for its route',
};

export const KIND_LABELS = { http: 'request', connection: 'connection', message: 'message', worker: 'worker', simulator: 'simulator', other: 'other' };

// The status shown in the list: the HTTP status code for requests, else ok/error.
export function statusOf(s) {
  const code = Number(s?.statusCode);
  if (Number.isInteger(code) && code >= 100 && code <= 999) {
    const cls = code >= 500 ? 'server-error' : code >= 400 ? 'client-error' : code >= 300 ? 'redirect' : code >= 200 ? 'success' : 'info';
    return { text: String(code), cls, title: `HTTP ${code}${cls === 'client-error' ? ' (client error)' : cls === 'server-error' ? ' (server error)' : ''}${s.status === 'error' && code < 500 ? ' · a span of this trace failed' : ''}` };
  }
  return s?.status === 'error' ? { text: 'error', cls: 'server-error', title: 'A span of this trace failed' } : { text: 'ok', cls: 'success', title: 'No span failed' };
}

export class TraceList {
  constructor({ scroller, spacer, emptyEl, countEl, newButton, routineEl, onSelect, onEvicted }) {
    this.onEvicted = onEvicted;
    this.scroller = scroller;
    this.spacer = spacer;
    this.emptyEl = emptyEl;
    this.countEl = countEl;
    this.newButton = newButton;
    this.routineEl = routineEl;
    this.onSelect = onSelect;
    this.capacity = DEFAULT_CAPACITY;
    this.items = new Map(); // traceId -> { s, t, evicted }
    this.pending = new Map(); // new traces held back while the list is held
    this.view = []; // filtered + sorted items
    this.dirty = true;
    this.filters = emptyFilters();
    this.serverIds = null; // Set of ids matching server-side filters (q, attr), or null
    this.selectedId = null;
    this.cursor = 0;
    this.frame = 0;
    this.routineHidden = 0;
    this.rendered = new Map(); // index -> row element

    scroller.addEventListener('scroll', () => { this.schedule(); if (scroller.scrollTop <= 0) this.#maybeRelease(); });
    scroller.addEventListener('click', (e) => {
      const row = e.target.closest('.trow[data-id]');
      if (!row) return;
      this.cursor = Number(row.dataset.index);
      this.onSelect?.(row.dataset.id);
    });
    scroller.addEventListener('keydown', (e) => this.#onKey(e));
    this.head = scroller.parentElement?.querySelector('.list-head') ?? null;
    for (const el of [scroller, this.head]) el?.addEventListener('pointerleave', () => this.#maybeRelease());
    scroller.addEventListener('focusout', () => setTimeout(() => this.#maybeRelease(), 0));
    newButton?.addEventListener('click', () => this.showNew());
    new ResizeObserver(() => this.schedule()).observe(scroller);
  }

  get size() { return this.items.size; }
  get(id) { return this.items.get(id)?.s; }
  isEvicted(id) { return !!this.items.get(id)?.evicted; }

  clear() {
    this.items.clear();
    this.pending.clear();
    this.dirty = true;
    this.schedule();
  }

  // How many traces the list keeps: as many as the store holds.
  setCapacity(n) {
    if (Number.isInteger(n) && n > 0 && n !== this.capacity) {
      this.capacity = n;
      this.#enforceCapacity();
    }
  }

  // Whether the user is on the list — a trace of it open, scrolled down, or aiming at it: then it must not move.
  get held() {
    return !!this.selectedId || this.scroller.scrollTop > 0 || this.aiming;
  }

  // Whether the pointer is on the rows (or the column heads just above them, on its way to a row) or the list has
  // the keyboard focus: a row is about to be clicked or opened.
  get aiming() {
    if (this.scroller.matches(':hover') || this.head?.matches(':hover')) return true;
    return this.scroller.contains(document.activeElement) && document.activeElement !== document.body;
  }

  // Inserts or replaces summaries by traceId (newer versions win unless `force`).
  // `live`: from the live feed — a new trace joins the list only when the list
  // is drawn while not held (see render), so rows never move under the user.
  upsert(summaries, { force = false, live = false } = {}) {
    const changed = new Set();
    let added = false;
    for (const s of summaries) {
      if (!s || typeof s.traceId !== 'string') continue;
      const item = this.items.get(s.traceId);
      const pv = (item?.s ?? this.pending.get(s.traceId))?.version, nv = s.version;
      if (!force && typeof pv === 'number' && typeof nv === 'number' && nv < pv) continue;
      if (item) {
        // In place: the row keeps its position.
        item.s = s;
        item.t = parseTime(s.startTime);
        item.evicted = false;
        this.reorder = true;
      } else if (live) {
        this.pending.delete(s.traceId);
        this.pending.set(s.traceId, s);
      } else {
        this.items.set(s.traceId, { s, t: parseTime(s.startTime), evicted: false });
        added = true;
      }
      changed.add(s.traceId);
    }
    if (changed.size) {
      this.#trimPending();
      if (added) { this.dirty = true; this.#enforceCapacity(); }
      for (const row of this.rendered.values()) row._s = null; // refill the rows in place
      this.schedule();
    }
    return changed;
  }

  // Traces the store evicted: marked now, removed when the list may move.
  markEvicted(ids) {
    const changed = [];
    for (const id of ids) {
      this.pending.delete(id);
      const item = this.items.get(id);
      if (!item || item.evicted) continue;
      item.evicted = true;
      changed.push(id);
    }
    if (changed.length) {
      this.onEvicted?.(changed);
      for (const row of this.rendered.values()) row._s = null;
      this.schedule();
    }
  }

  // Beyond the store's size the least recently changed traces are gone (the
  // store evicts in that order): marked like evictions.
  #enforceCapacity() {
    const kept = [...this.items.values()].filter((it) => !it.evicted);
    const excess = kept.length - this.capacity;
    if (excess <= 0) return;
    const byAge = kept
      .sort((a, b) => (a.s.version || 0) - (b.s.version || 0) || (a.t || 0) - (b.t || 0));
    this.markEvicted(byAge.slice(0, excess).map((it) => it.s.traceId));
  }

  #trimPending() {
    const excess = this.pending.size - this.capacity;
    if (excess <= 0) return;
    let n = 0;
    for (const id of this.pending.keys()) { if (n++ >= excess) break; this.pending.delete(id); }
  }

  // Brings in the held-back traces and drops evicted rows: the list moves, on request.
  showNew() {
    this.#absorb();
    this.scroller.scrollTop = 0;
    this.cursor = 0;
    this.schedule();
  }

  // Applies what waited: new traces join, rows of evicted traces go (the open one stays, marked).
  #absorb() {
    let moved = false;
    if (this.deferred) {
      const { filters, serverIds, summaries } = this.deferred;
      this.deferred = null;
      for (const s of summaries) if (!this.items.has(s.traceId)) this.items.set(s.traceId, { s, t: parseTime(s.startTime), evicted: false });
      this.filters = { ...filters };
      this.serverIds = serverIds;
      moved = true;
    }
    for (const s of this.pending.values()) { this.items.set(s.traceId, { s, t: parseTime(s.startTime), evicted: false }); moved = true; }
    this.pending.clear();
    if (moved) this.#enforceCapacity();
    for (const [id, it] of this.items) if (it.evicted && id !== this.selectedId) { this.items.delete(id); moved = true; }
    if (moved) this.dirty = true;
  }

  #maybeRelease() {
    if (!this.held) this.schedule();
  }

  #renderNewButton() {
    if (!this.newButton) return;
    const n = this.pending.size;
    this.newButton.hidden = n === 0 && !this.deferred;
    this.newButton.textContent = n === 0 ? '↑ new search results' : `↑ ${formatCount(n)} new trace${n === 1 ? '' : 's'}`;
  }

  // A server search answered (full text, attribute): applied now, or — when it comes back while someone aims at the
  // list (or, for a refresh the user did not ask for, while the list is held) — when the list may move or on
  // "↑ new search results", so rows never change under the pointer.
  applyResults(filters, serverIds, summaries, { asked = true } = {}) {
    if (asked ? this.aiming : this.held) {
      this.deferred = { filters, serverIds, summaries };
      this.#renderNewButton();
      return;
    }
    this.deferred = null;
    this.upsert(summaries);
    this.setFilters(filters, serverIds);
  }

  setFilters(filters, serverIds) {
    this.deferred = null; // an answer to the previous search
    this.filters = { ...filters };
    this.serverIds = serverIds;
    // The user asked for a new view of the list: it may move.
    this.#absorb();
    this.dirty = true;
    this.schedule();
  }

  setSelected(id) {
    this.selectedId = id || null;
    const idx = this.view.findIndex((it) => it.s.traceId === this.selectedId);
    if (idx >= 0) this.cursor = idx;
    if (!this.selectedId) setTimeout(() => this.#maybeRelease(), 0);
    this.schedule();
  }

  // The filtered, sorted summaries (for export, compare and replay).
  visibleSummaries() {
    this.#refilter();
    return this.view.filter((it) => !it.evicted).map((it) => it.s);
  }

  // Every kept summary, filtered or not (compare looks for similar traces).
  allSummaries() {
    return [...this.items.values()].filter((it) => !it.evicted).map((it) => it.s);
  }

  matches(s, t) {
    const f = this.filters;
    if (f.errors && s.status !== 'error') return false;
    if (f.status && String(Math.floor(Number(s.statusCode) / 100)) !== f.status[0]) return false;
    if (f.kind && (s.kind ?? 'other') !== f.kind) return false;
    if (f.nplus && !(Number(s.nPlusOne) > 0)) return false;
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

  // Routine requests are folded away unless asked for or searched for.
  #foldsRoutine() {
    const f = this.filters;
    return !f.routine && !f.q && !f.name && !f.attr;
  }

  #refilter() {
    if (!this.dirty) return;
    this.dirty = false;
    const out = [];
    const fold = this.#foldsRoutine();
    let routine = 0;
    for (const it of this.items.values()) {
      if (!this.matches(it.s, it.t)) continue;
      if (fold && it.s.routine === true && it.s.traceId !== this.selectedId) { routine++; continue; }
      out.push(it);
    }
    this.routineHidden = routine;
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
    // The moment rows would move: only when nobody is on the list.
    if (!this.held) {
      this.#absorb();
      if (this.reorder) { this.reorder = false; this.dirty = true; }
    }
    this.#renderNewButton();
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
      if (row._s !== item.s || row._i !== i || row._e !== item.evicted) this.#fillRow(row, item, i);
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
    if (this.routineEl) {
      this.routineEl.textContent = this.routineHidden ? `${formatCount(this.routineHidden)} routine hidden` : '';
      this.routineEl.hidden = !this.routineHidden;
    }
  }

  #createRow() {
    const row = h('div', { class: 'trow', role: 'option' });
    row.append(
      h('span', { class: 'c-time' }), h('span', { class: 'c-name' }), h('span', { class: 'c-status' }),
      h('span', { class: 'c-dur' }, h('span', { class: 'dur-text' }), h('span', { class: 'dur-bar' })),
      h('span', { class: 'c-spans' }));
    return row;
  }

  #fillRow(row, { s, t, evicted }, i) {
    row._s = s;
    row._i = i;
    row._e = evicted;
    row.id = `trow-${i}`;
    row.dataset.id = s.traceId;
    row.dataset.index = String(i);
    row.dataset.kind = s.kind ?? 'other';
    row.style.transform = `translateY(${i * ROW_H}px)`;
    const [time, name, status, dur, spans] = row.children;
    time.textContent = formatClock(t);
    const label = String(s.name ?? '') || '(unnamed)';
    const parts = [];
    if (evicted) parts.push(h('span', { class: 'row-flag flag-evicted', text: 'evicted' }));
    if (s.kind && s.kind !== 'http') parts.push(h('span', { class: 'kind-tag', dataset: { kind: s.kind }, text: KIND_LABELS[s.kind] ?? s.kind }));
    parts.push(h('span', { class: 'row-name', text: label }));
    if (Number(s.nPlusOne) > 0) parts.push(h('span', { class: 'row-flag flag-nplus', title: `N+1: one statement ran ${s.nPlusOne} times`, text: `N+1 ×${s.nPlusOne}` }));
    if (Number(s.duplicateQueries) > 0) parts.push(h('span', { class: 'row-flag flag-dup', title: `${s.duplicateQueries} exact duplicate quer${Number(s.duplicateQueries) === 1 ? 'y' : 'ies'}`, text: `dup ×${s.duplicateQueries}` }));
    if (s.routine === true) parts.push(h('span', { class: 'row-flag flag-routine', text: 'routine' }));
    if (s.keptBecause === 'slow' || s.keptBecause === 'sampled') parts.push(h('span', { class: `row-flag flag-kept`, title: KEPT_TITLES[s.keptBecause], text: s.keptBecause }));
    name.replaceChildren(...parts);
    const title = [label];
    if (evicted) title.push('evicted: the store no longer holds this trace');
    if (s.method || s.route) title.push(`${s.method ?? ''} ${s.route ?? ''}`.trim());
    if (s.kind) title.push(KIND_LABELS[s.kind] ?? s.kind);
    if (s.keptBecause && s.keptBecause !== 'recent') title.push(`kept because: ${KEPT_TITLES[s.keptBecause] ?? s.keptBecause}`);
    if (Number(s.databaseCount) > 0) title.push(`${s.databaseCount} database command${Number(s.databaseCount) === 1 ? '' : 's'}`);
    if (Array.isArray(s.components) && s.components.length) title.push(s.components.join(', '));
    name.title = title.join(' · ');
    const st = statusOf(s);
    status.replaceChildren(h('span', { class: `status-code status-${st.cls}`, title: st.title, text: st.text }));
    dur.firstChild.textContent = formatDuration(s.durationMs);
    // Log-scaled bar: 1 ms .. 10 s.
    const d = Math.max(Number(s.durationMs) || 0, 0.001);
    dur.lastChild.style.width = `${Math.min(100, Math.max(2, ((Math.log10(d) + 1) / 5) * 100))}%`;
    spans.textContent = formatCount(s.spanCount);
    row.classList.toggle('is-error', s.status === 'error');
    row.classList.toggle('is-client-error', st.cls === 'client-error' && s.status !== 'error');
    row.classList.toggle('is-evicted', !!evicted);
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
