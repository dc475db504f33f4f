// Live trace list: keeps up to `maxKept` summaries in memory and renders the
// newest `maxRows` that match the client-side name filter.
import { h, statusBadge } from './dom.js';
import { parseTime, formatClock, formatDuration, formatCount } from './format.js';

export class TraceList {
  constructor({ tbody, emptyEl, countEl, onSelect, maxRows = 500, maxKept = 5000 }) {
    this.tbody = tbody;
    this.emptyEl = emptyEl;
    this.countEl = countEl;
    this.onSelect = onSelect;
    this.maxRows = maxRows;
    this.maxKept = maxKept;
    this.items = new Map(); // traceId -> { s: summary, t: startEpochMs }
    this.sorted = [];
    this.dirty = false;
    this.rows = new Map(); // traceId -> { tr, s }
    this.filter = '';
    this.selectedId = null;
    this.frame = 0;

    tbody.addEventListener('click', (e) => {
      const tr = e.target.closest('tr[data-id]');
      if (tr) this.onSelect?.(tr.dataset.id);
    });
    tbody.addEventListener('keydown', (e) => this.#onKey(e));
    tbody.addEventListener('focusin', (e) => {
      const tr = e.target.closest('tr[data-id]');
      if (tr) this.#setRoving(tr);
    });
  }

  get size() {
    return this.items.size;
  }

  has(id) {
    return this.items.has(id);
  }

  get(id) {
    return this.items.get(id)?.s;
  }

  // Inserts or replaces summaries by traceId; older versions are ignored unless
  // `force` (a fresh hydrate is authoritative). Returns the ids that changed.
  upsert(summaries, force = false) {
    const changed = new Set();
    for (const s of summaries) {
      if (!s || typeof s.traceId !== 'string') continue;
      const prev = this.items.get(s.traceId);
      const pv = prev?.s.version, nv = s.version;
      if (typeof pv === 'number' && typeof nv === 'number' && (force ? nv === pv : nv <= pv)) continue;
      this.items.set(s.traceId, { s, t: parseTime(s.startTime) });
      changed.add(s.traceId);
    }
    if (changed.size) {
      this.dirty = true;
      this.schedule();
    }
    return changed;
  }

  setFilter(text) {
    const f = (text || '').trim().toLowerCase();
    if (f === this.filter) return;
    this.filter = f;
    this.schedule();
  }

  setSelected(id) {
    this.selectedId = id || null;
    for (const [rid, row] of this.rows) {
      const sel = rid === this.selectedId;
      row.tr.classList.toggle('selected', sel);
      row.tr.setAttribute('aria-selected', sel ? 'true' : 'false');
    }
    this.#fixRoving();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  #sort() {
    if (!this.dirty) return;
    this.dirty = false;
    const arr = Array.from(this.items.values());
    arr.sort((a, b) => (b.t || 0) - (a.t || 0) || (a.s.traceId < b.s.traceId ? -1 : 1));
    if (arr.length > this.maxKept) {
      for (const gone of arr.splice(this.maxKept)) {
        if (gone.s.traceId !== this.selectedId) this.items.delete(gone.s.traceId);
      }
    }
    this.sorted = arr;
  }

  render() {
    this.#sort();
    const f = this.filter;
    const visible = [];
    let matches = 0;
    for (const item of this.sorted) {
      if (f && !String(item.s.name ?? '').toLowerCase().includes(f)) continue;
      matches++;
      if (visible.length < this.maxRows) visible.push(item);
    }

    const keep = new Set();
    let cursor = this.tbody.firstChild;
    for (const item of visible) {
      const id = item.s.traceId;
      keep.add(id);
      let row = this.rows.get(id);
      if (!row) {
        row = { tr: this.#createRow(id), s: null };
        this.rows.set(id, row);
      }
      if (row.s !== item.s) {
        this.#fillRow(row.tr, item);
        row.s = item.s;
      }
      if (row.tr === cursor) cursor = cursor.nextSibling;
      else this.tbody.insertBefore(row.tr, cursor);
    }
    while (cursor) {
      const next = cursor.nextSibling;
      this.tbody.removeChild(cursor);
      cursor = next;
    }
    for (const id of this.rows.keys()) if (!keep.has(id)) this.rows.delete(id);
    this.#fixRoving();

    const total = this.items.size;
    if (this.emptyEl) {
      this.emptyEl.hidden = visible.length > 0;
      this.emptyEl.textContent = total === 0 ? 'Waiting for traces…' : 'No traces match the filter.';
    }
    if (this.countEl) {
      let text = f ? `${formatCount(matches)} of ${formatCount(total)}` : `${formatCount(total)} traces`;
      if (matches > visible.length) text += ` (showing newest ${formatCount(visible.length)})`;
      this.countEl.textContent = text;
    }
  }

  #createRow(id) {
    const tr = h('tr', { tabindex: '-1', 'aria-selected': 'false', dataset: { id } });
    tr.append(
      h('td', { class: 'c-time' }),
      h('td', { class: 'c-name' }),
      h('td', { class: 'c-status' }),
      h('td', { class: 'c-dur' }),
      h('td', { class: 'c-spans' }),
    );
    return tr;
  }

  #fillRow(tr, { s, t }) {
    const [time, name, status, dur, spans] = tr.cells;
    time.textContent = formatClock(t);
    const label = String(s.name ?? '') || '(unnamed)';
    name.textContent = label;
    const title = [label];
    if (s.method || s.route) title.push(`${s.method ?? ''} ${s.route ?? ''}`.trim());
    if (s.statusCode != null) title.push(`HTTP ${s.statusCode}`);
    if (Array.isArray(s.components) && s.components.length) title.push(s.components.join(', '));
    if (s.instance) title.push(`instance ${s.instance}`);
    name.title = title.join(' · ');
    status.replaceChildren(statusBadge(s.status));
    dur.textContent = formatDuration(s.durationMs);
    spans.textContent = formatCount(s.spanCount);
    if (s.errorCount > 0) spans.title = `${s.errorCount} error span(s)`;
    else spans.removeAttribute('title');
    const sel = s.traceId === this.selectedId;
    tr.classList.toggle('selected', sel);
    tr.classList.toggle('is-error', s.status === 'error');
    tr.setAttribute('aria-selected', sel ? 'true' : 'false');
  }

  // Roving tabindex: exactly one row is in the tab order.
  #fixRoving() {
    const current = this.tbody.querySelector('tr[tabindex="0"]');
    if (current && current.parentNode === this.tbody) return;
    const target = (this.selectedId && this.rows.get(this.selectedId)?.tr) || this.tbody.firstElementChild;
    if (target) target.tabIndex = 0;
  }

  #setRoving(tr) {
    for (const other of this.tbody.querySelectorAll('tr[tabindex="0"]')) if (other !== tr) other.tabIndex = -1;
    tr.tabIndex = 0;
  }

  #onKey(e) {
    const tr = e.target.closest('tr[data-id]');
    if (!tr) return;
    let next = null;
    switch (e.key) {
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.onSelect?.(tr.dataset.id);
        return;
      case 'ArrowDown': next = tr.nextElementSibling; break;
      case 'ArrowUp': next = tr.previousElementSibling; break;
      case 'Home': next = this.tbody.firstElementChild; break;
      case 'End': next = this.tbody.lastElementChild; break;
      default: return;
    }
    e.preventDefault();
    if (next) {
      this.#setRoving(next);
      next.focus();
    }
  }

  focusSelected() {
    const tr = this.selectedId && this.rows.get(this.selectedId)?.tr;
    if (tr) tr.focus();
  }
}
